import type { EncodedJson } from '../common/json/encoded-json';
import type { HermesUsage } from './hermes-events';
import type { HermesProfile } from './hermes-profile';
import { HermesProtocolError } from './hermes.errors';

/**
 * The Hermes runs API as the gateway sees it: request and answer shapes, run states, and the
 * parsing of untrusted answers into them (once, here at the edge).
 */

export interface HermesHistoryMessage {
  role: 'user' | 'assistant' | 'system';
  content: string;
}

/** The body of `POST /v1/runs`. */
export interface HermesRunRequest {
  input: string;
  session_id?: string;
  model?: string;
  instructions?: string;
  /** Encoded already by the caller, or encoded with the request. */
  conversation_history?: HermesHistoryMessage[] | EncodedJson<HermesHistoryMessage[]>;
}

export interface HermesRunCreated {
  runId: string;
  /** `started` for a new run. */
  status: string;
  /** True when the upstream returned the run already admitted under this idempotency key. */
  replayed: boolean;
}

export const HERMES_RUN_STATES = [
  'queued',
  'running',
  'waiting_for_approval',
  'stopping',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
] as const;
export type HermesRunState = (typeof HERMES_RUN_STATES)[number];

/** States after which the run will not change any more (`interrupted`: the upstream restarted). */
export const HERMES_FINAL_RUN_STATES: ReadonlySet<HermesRunState> = new Set([
  'completed',
  'failed',
  'cancelled',
  'interrupted',
]);

/** `GET /v1/runs/{id}`. Unlisted fields are kept as they came. */
export interface HermesRunStatus {
  run_id: string;
  status: HermesRunState;
  object?: string;
  created_at?: number;
  updated_at?: number;
  session_id?: string;
  model?: string;
  last_event?: string;
  output?: string;
  usage?: HermesUsage;
  error?: string;
  [field: string]: unknown;
}

/**
 * What `stopRun` achieved:
 * - `stopping`: the upstream is stopping the run; its stream will end with `run.cancelled`
 *   (or a last `run.completed`/`run.failed`);
 * - `finished`: the run had already ended (`run` is its status);
 * - `not_active`: 409, the run is not live in that upstream process (e.g. after its restart);
 * - `unknown_run`: 404.
 */
export type HermesStopResult =
  | { outcome: 'stopping' }
  | { outcome: 'finished'; run: HermesRunStatus }
  | { outcome: 'not_active' }
  | { outcome: 'unknown_run' };

export function isFinalState(status: string): boolean {
  return HERMES_FINAL_RUN_STATES.has(status as HermesRunState);
}

/** The answer as a JSON object, or `undefined` for anything else. */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A run status answer; fields of an unexpected type are stringified or dropped. */
export function parseRunStatus(
  profile: HermesProfile,
  operation: string,
  text: string,
): HermesRunStatus {
  const body = parseObject(text);
  if (!body)
    throw new HermesProtocolError(profile.name, operation, 'the answer is not a JSON object');
  const status = body['status'];
  if (typeof status !== 'string' || !(HERMES_RUN_STATES as readonly string[]).includes(status)) {
    throw new HermesProtocolError(
      profile.name,
      operation,
      `unexpected run status ${JSON.stringify(status)}`,
    );
  }
  if (typeof body['run_id'] !== 'string') {
    throw new HermesProtocolError(profile.name, operation, 'the answer has no run_id');
  }
  for (const key of ['output', 'error', 'session_id', 'model', 'last_event'] as const) {
    if (body[key] !== undefined && body[key] !== null && typeof body[key] !== 'string') {
      body[key] = JSON.stringify(body[key]);
    }
    if (body[key] === null) delete body[key];
  }
  if (
    body['usage'] !== undefined &&
    (typeof body['usage'] !== 'object' || body['usage'] === null)
  ) {
    delete body['usage'];
  }
  return body as HermesRunStatus;
}
