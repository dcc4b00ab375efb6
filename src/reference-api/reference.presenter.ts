import type { Message, SearchHit, Session, TokenTotals } from '../sessions/session.types';
import { presentTokens } from '../usage/usage.presenter';
import type { UsageStats } from '../usage/usage.types';
import type {
  ReferenceMessageDto,
  ReferenceSearchResultDto,
  ReferenceSessionDto,
} from './dto/reference-sessions.response.dto';
import type {
  ReferenceTokenUsageDto,
  ReferenceUsageStatsDto,
} from './dto/reference-usage.response.dto';

/** The source every gateway session reports: a chat started through this API. */
export const GATEWAY_SOURCE = 'api_server';

/**
 * Domain → the hermes-studio client's shapes. What the gateway does not keep gets the neutral
 * value that client's own server reports when it has no figure: no billing provider, costs 0
 * (actual cost null) and an empty `cost_status`.
 */
export function presentReferenceSession(session: Session): ReferenceSessionDto {
  return {
    id: session.id,
    source: GATEWAY_SOURCE,
    model: session.model ?? '',
    title: session.title,
    preview: session.preview ?? '',
    started_at: session.createdAt,
    ended_at: null,
    last_active: session.lastActive,
    message_count: session.messageCount,
    tool_call_count: 0,
    ...presentTokens(session),
    billing_provider: null,
    estimated_cost_usd: 0,
    actual_cost_usd: null,
    cost_status: '',
    workspace: session.workspace,
  };
}

export function presentReferenceMessage(message: Message): ReferenceMessageDto {
  return {
    id: message.id,
    session_id: message.sessionId,
    role: message.role,
    content: message.content,
    tool_call_id: message.toolCallId,
    tool_calls: message.toolCalls?.length ? message.toolCalls : null,
    tool_name: message.toolName,
    timestamp: message.timestamp,
    token_count: message.tokenCount,
    finish_reason: message.finishReason,
    reasoning: message.reasoning,
  };
}

export function presentReferenceSearchHit(hit: SearchHit): ReferenceSearchResultDto {
  return {
    ...presentReferenceSession(hit.session),
    matched_message_id: hit.messageId,
    snippet: hit.snippet,
    rank: 0,
  };
}

export function presentReferenceTokenUsage(totals: TokenTotals): ReferenceTokenUsageDto {
  return { input_tokens: totals.inputTokens, output_tokens: totals.outputTokens };
}

export function presentReferenceStats(stats: UsageStats): ReferenceUsageStatsDto {
  const { totals } = stats;
  return {
    total_input_tokens: totals.inputTokens,
    total_output_tokens: totals.outputTokens,
    total_cache_read_tokens: totals.cacheReadTokens,
    total_cache_write_tokens: totals.cacheWriteTokens,
    total_reasoning_tokens: totals.reasoningTokens,
    total_sessions: totals.sessions,
    total_cost: 0,
    period_days: stats.days,
    model_usage: stats.byModel.map((row) => ({
      model: row.model ?? '',
      ...presentTokens(row),
      sessions: row.sessions,
    })),
    daily_usage: stats.byDay.map((row) => {
      const { reasoning_tokens: _perDayUnused, ...tokens } = presentTokens(row);
      return { date: row.day, ...tokens, sessions: row.sessions, errors: 0, cost: 0 };
    }),
  };
}
