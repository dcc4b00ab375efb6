import { MessageEntity } from './message.entity';
import { SessionEntity } from './session.entity';
import type { Message, Session, ToolCall } from './session.types';

export function toSession(entity: SessionEntity): Session {
  return {
    id: entity.id,
    profile: entity.profile,
    model: entity.model,
    title: entity.title,
    preview: entity.preview,
    workspace: entity.workspace,
    createdAt: entity.createdAt,
    lastActive: entity.lastActive,
    messageCount: entity.messageCount,
    inputTokens: entity.inputTokens,
    outputTokens: entity.outputTokens,
    cacheReadTokens: entity.cacheReadTokens,
    cacheWriteTokens: entity.cacheWriteTokens,
    reasoningTokens: entity.reasoningTokens,
    context: {
      inputTokens: entity.contextInputTokens,
      outputTokens: entity.contextOutputTokens,
    },
  };
}

export function toMessage(entity: MessageEntity): Message {
  return {
    id: entity.id,
    sessionId: entity.sessionId,
    role: entity.role,
    content: entity.content,
    reasoning: entity.reasoning,
    toolCalls: parseToolCalls(entity.toolCalls),
    toolCallId: entity.toolCallId,
    toolName: entity.toolName,
    finishReason: entity.finishReason,
    runId: entity.runId,
    tokenCount: entity.tokenCount,
    timestamp: entity.timestamp,
  };
}

/** Stored tool calls are JSON written by us; anything else reads as "no tool calls". */
export function parseToolCalls(raw: string | null): ToolCall[] | null {
  if (!raw) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter(isToolCall) : null;
  } catch {
    return null;
  }
}

function isToolCall(value: unknown): value is ToolCall {
  if (typeof value !== 'object' || value === null) return false;
  const fn = (value as { function?: unknown }).function;
  return (
    typeof (value as { id?: unknown }).id === 'string' &&
    typeof fn === 'object' &&
    fn !== null &&
    typeof (fn as { name?: unknown }).name === 'string'
  );
}

/** First user text as a one-line preview: newlines folded, at most 100 characters. */
export function makePreview(text: string): string {
  // By code point, so an emoji is never cut in half.
  return Array.from(text.replace(/\s+/g, ' ').trim()).slice(0, 100).join('');
}

/** A window of `text` around the first case-insensitive match of `needle`. */
export function makeSnippet(text: string, needle: string, width = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  // Searched case-insensitively in the text itself: lower-casing can change lengths.
  const at = flat.search(new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'));
  if (at < 0 || flat.length <= width) return flat.slice(0, width);
  const start = Math.max(
    0,
    Math.min(at - Math.floor((width - needle.length) / 2), flat.length - width),
  );
  const end = start + width;
  return `${start > 0 ? '…' : ''}${flat.slice(start, end)}${end < flat.length ? '…' : ''}`;
}
