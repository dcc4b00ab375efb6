import type { MessageDto } from './dto/message.response.dto';
import type { SearchHitDto, SessionDto } from './dto/session.response.dto';
import type { Message, SearchHit, Session } from './session.types';

/** Domain → wire shapes, shared by REST and the socket gateway. */
export function presentSession(session: Session): SessionDto {
  return {
    id: session.id,
    profile: session.profile,
    model: session.model,
    title: session.title,
    preview: session.preview,
    workspace: session.workspace,
    created_at: session.createdAt,
    last_active: session.lastActive,
    message_count: session.messageCount,
    input_tokens: session.inputTokens,
    output_tokens: session.outputTokens,
    cache_read_tokens: session.cacheReadTokens,
    cache_write_tokens: session.cacheWriteTokens,
    reasoning_tokens: session.reasoningTokens,
  };
}

export function presentMessage(message: Message): MessageDto {
  const dto: MessageDto = {
    id: message.id,
    session_id: message.sessionId,
    role: message.role,
    content: message.content,
    reasoning: message.reasoning,
    timestamp: message.timestamp,
  };
  if (message.toolCalls?.length) dto.tool_calls = message.toolCalls;
  if (message.toolCallId) dto.tool_call_id = message.toolCallId;
  if (message.toolName) dto.tool_name = message.toolName;
  if (message.finishReason) dto.finish_reason = message.finishReason;
  if (message.runId) dto.run_id = message.runId;
  return dto;
}

export function presentSearchHit(hit: SearchHit): SearchHitDto {
  return { session: presentSession(hit.session), message_id: hit.messageId, snippet: hit.snippet };
}
