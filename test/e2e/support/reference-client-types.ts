import {
  arrayOf,
  boolean,
  extend,
  type Infer,
  integer,
  literal,
  nullable,
  number,
  object,
  oneOf,
  optional,
  recordOf,
  string,
} from './shape';

/**
 * What the hermes-studio web client (EKKOLearnAI/hermes-studio v0.5.14,
 * `packages/client/src/api/hermes/sessions.ts`) declares for the bodies of its session routes,
 * written down here from its public source as shapes, with the types they stand for. Its optional
 * fields are optional here too; every other field must be present, with its type. Fields the
 * client does not declare are reported, so a misspelt field shows up.
 */

export const sessionSummary = object({
  id: string,
  source: string,
  model: string,
  title: nullable(string),
  preview: optional(string),
  started_at: number,
  ended_at: nullable(number),
  last_active: optional(number),
  message_count: number,
  tool_call_count: number,
  input_tokens: number,
  output_tokens: number,
  cache_read_tokens: number,
  cache_write_tokens: number,
  reasoning_tokens: number,
  billing_provider: nullable(string),
  estimated_cost_usd: number,
  actual_cost_usd: nullable(number),
  cost_status: string,
  workspace: optional(nullable(string)),
});
export type SessionSummary = Infer<typeof sessionSummary>;

const toolCall = object({
  id: string,
  type: literal('function'),
  function: object({ name: string, arguments: string }),
});

export const hermesMessage = object({
  id: integer,
  session_id: string,
  role: oneOf(literal('user'), literal('assistant'), literal('system'), literal('tool')),
  content: string,
  tool_call_id: nullable(string),
  tool_calls: nullable(arrayOf(toolCall)),
  tool_name: nullable(string),
  timestamp: number,
  token_count: nullable(number),
  finish_reason: nullable(string),
  reasoning: nullable(string),
});
export type HermesMessage = Infer<typeof hermesMessage>;

export const sessionDetail = extend(sessionSummary, { messages: arrayOf(hermesMessage) });
export type SessionDetail = Infer<typeof sessionDetail>;

/** `PaginatedSessionMessages`: `fetchSessionMessagesPage`, the older messages of a long chat. */
export const messagesPage = object({
  session: sessionSummary,
  messages: arrayOf(hermesMessage),
  total: number,
  offset: number,
  limit: number,
  hasMore: boolean,
});
export type PaginatedSessionMessages = Infer<typeof messagesPage>;

export const sessionSearchResult = extend(sessionSummary, {
  matched_message_id: nullable(integer),
  snippet: string,
  rank: number,
});
export type SessionSearchResult = Infer<typeof sessionSearchResult>;

/** `{ sessions: SessionSummary[] }`: the list routes. */
export const sessionList = object({ sessions: arrayOf(sessionSummary) });
/** `{ session: SessionDetail }`: the detail routes. */
export const sessionDetailResponse = object({ session: sessionDetail });
/** `{ results: SessionSearchResult[] }`: search. */
export const searchResponse = object({ results: arrayOf(sessionSearchResult) });

/** Batch delete. */
export const batchDeleteResult = object({
  deleted: number,
  failed: number,
  errors: arrayOf(object({ id: string, error: string })),
});

const tokenUsage = object({ input_tokens: number, output_tokens: number });
/** `fetchSessionUsageSingle`. */
export const sessionUsage = tokenUsage;
/** `fetchSessionUsage`: by session id. */
export const sessionsUsage = recordOf(tokenUsage);
/** `fetchContextLength`. */
export const contextLength = object({ context_length: number });

/** `UsageStatsResponse`. */
export const usageStats = object({
  total_input_tokens: number,
  total_output_tokens: number,
  total_cache_read_tokens: number,
  total_cache_write_tokens: number,
  total_reasoning_tokens: number,
  total_sessions: number,
  total_cost: number,
  total_api_calls: optional(number),
  period_days: optional(number),
  model_usage: arrayOf(
    object({
      model: string,
      input_tokens: number,
      output_tokens: number,
      cache_read_tokens: number,
      cache_write_tokens: number,
      reasoning_tokens: number,
      sessions: number,
    }),
  ),
  daily_usage: arrayOf(
    object({
      date: string,
      input_tokens: number,
      output_tokens: number,
      cache_read_tokens: number,
      cache_write_tokens: number,
      sessions: number,
      errors: number,
      cost: number,
    }),
  ),
});
export type UsageStatsResponse = Infer<typeof usageStats>;

/** The client only needs a 2xx from these; the gateway answers `{ ok: true }`. */
export const okResponse = object({ ok: boolean, deleted: optional(boolean) });
