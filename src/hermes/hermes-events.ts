/**
 * The upstream's run events, parsed and checked once at the edge (the per-delta hot path:
 * `JSON.parse` and a few `typeof` checks, nothing more).
 *
 * Each event is delivered as `{ type, payload }`: `payload` is the upstream's JSON object itself,
 * with every field it carried, so it can be forwarded as-is; `type` is the discriminant that makes
 * TypeScript narrow `payload` (a bare `{ event: string }` catch-all variant would defeat narrowing
 * on `payload.event`). Unknown event types arrive as `type: 'other'` with their payload untouched.
 */

/** Token counts of a finished run. Extra counters (cache, reasoning) are kept as they came. */
export interface HermesUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  [counter: string]: unknown;
}

/** Fields every upstream event carries. */
export interface HermesEventBase {
  event: string;
  run_id: string;
  /** Unix seconds (float). */
  timestamp: number;
  [field: string]: unknown;
}

export interface MessageDeltaPayload extends HermesEventBase {
  event: 'message.delta';
  /** Raw text; may be a stringified content-block array (see the upstream contract). */
  delta: string;
}

export interface ReasoningDeltaPayload extends HermesEventBase {
  event: 'reasoning.delta' | 'thinking.delta';
  text?: string;
  delta?: string;
}

export interface ReasoningAvailablePayload extends HermesEventBase {
  event: 'reasoning.available';
  text: string;
}

export interface ToolStartedPayload extends HermesEventBase {
  event: 'tool.started';
  tool: string;
  preview?: string;
  tool_call_id?: string;
}

export interface ToolCompletedPayload extends HermesEventBase {
  event: 'tool.completed';
  tool: string;
  /** Seconds. */
  duration?: number;
  error?: boolean | string;
  output?: string;
}

export interface ApprovalRequestPayload extends HermesEventBase {
  event: 'approval.request';
  request_id?: string;
  command?: string;
  description?: string;
  choices?: string[];
}

export interface RunCompletedPayload extends HermesEventBase {
  event: 'run.completed';
  /** Final text; may be a stringified content-block array. */
  output?: string;
  usage?: HermesUsage;
}

export interface RunFailedPayload extends HermesEventBase {
  event: 'run.failed';
  error: string;
}

export interface RunCancelledPayload extends HermesEventBase {
  event: 'run.cancelled';
}

/** Any other event (`status.message`, `approval.responded`, `subagent.start`, ...). */
export type OtherEventPayload = HermesEventBase;

export type HermesRunEvent =
  | { type: 'message.delta'; payload: MessageDeltaPayload }
  | { type: 'reasoning.delta'; payload: ReasoningDeltaPayload }
  | { type: 'thinking.delta'; payload: ReasoningDeltaPayload }
  | { type: 'reasoning.available'; payload: ReasoningAvailablePayload }
  | { type: 'tool.started'; payload: ToolStartedPayload }
  | { type: 'tool.completed'; payload: ToolCompletedPayload }
  | { type: 'approval.request'; payload: ApprovalRequestPayload }
  | { type: 'run.completed'; payload: RunCompletedPayload }
  | { type: 'run.failed'; payload: RunFailedPayload }
  | { type: 'run.cancelled'; payload: RunCancelledPayload }
  | { type: 'other'; payload: OtherEventPayload };

export type HermesRunEventType = HermesRunEvent['type'];

export type HermesTerminalEvent = Extract<
  HermesRunEvent,
  { type: 'run.completed' | 'run.failed' | 'run.cancelled' }
>;

const TERMINAL_TYPES: ReadonlySet<string> = new Set([
  'run.completed',
  'run.failed',
  'run.cancelled',
]);

export function isTerminalEvent(event: HermesRunEvent): event is HermesTerminalEvent {
  return TERMINAL_TYPES.has(event.type);
}

type JsonRecord = Record<string, unknown>;

/**
 * Parses one SSE `data` field. Returns `null` for anything that is not a JSON object with a string
 * `event` (the caller counts and skips those). A known event whose own fields are malformed is
 * demoted to `other` so it is still forwarded; terminal events are never demoted (a lost terminal
 * event would turn a finished run into a lost one), their fields are repaired instead.
 *
 * Repairs, all in place on the parsed object: a missing `run_id` becomes `fallbackRunId`, a
 * missing `timestamp` becomes now; a non-string `output` is JSON-encoded; a non-string
 * `run.failed` error is stringified; malformed optional fields are removed.
 */
export function parseHermesEvent(data: string, fallbackRunId = ''): HermesRunEvent | null {
  // Cheap pre-check: every upstream event is a JSON object.
  if (data.length < 2 || data.charCodeAt(0) !== 0x7b /* { */) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const record = parsed as JsonRecord;
  const name = record.event;
  if (typeof name !== 'string' || name === '') return null;
  if (typeof record.run_id !== 'string') record.run_id = fallbackRunId;
  if (typeof record.timestamp !== 'number') record.timestamp = Date.now() / 1000;
  return classify(name, record as HermesEventBase);
}

function classify(name: string, payload: HermesEventBase): HermesRunEvent {
  switch (name) {
    case 'message.delta':
      if (typeof payload.delta !== 'string') break;
      return { type: name, payload: payload as MessageDeltaPayload };
    case 'reasoning.delta':
    case 'thinking.delta':
      dropUnless(payload, 'text', isString);
      dropUnless(payload, 'delta', isString);
      return { type: name, payload: payload as ReasoningDeltaPayload };
    case 'reasoning.available':
      if (typeof payload.text !== 'string') break;
      return { type: name, payload: payload as ReasoningAvailablePayload };
    case 'tool.started':
      if (!hasToolName(payload)) break;
      dropUnless(payload, 'preview', isString);
      dropUnless(payload, 'tool_call_id', isNonEmptyString);
      return { type: name, payload: payload as ToolStartedPayload };
    case 'tool.completed':
      if (!hasToolName(payload)) break;
      dropUnless(payload, 'duration', isNumber);
      dropUnless(payload, 'error', isBooleanOrString);
      encodeOutput(payload);
      return { type: name, payload: payload as ToolCompletedPayload };
    case 'approval.request':
      dropUnless(payload, 'request_id', isString);
      dropUnless(payload, 'command', isString);
      dropUnless(payload, 'description', isString);
      dropUnless(payload, 'choices', isStringArray);
      return { type: name, payload: payload as ApprovalRequestPayload };
    case 'run.completed':
      encodeOutput(payload);
      dropUnless(payload, 'usage', isUsage);
      return { type: name, payload: payload as RunCompletedPayload };
    case 'run.failed':
      if (typeof payload.error !== 'string') {
        payload.error = payload.error == null ? 'run failed' : JSON.stringify(payload.error);
      }
      return { type: name, payload: payload as RunFailedPayload };
    case 'run.cancelled':
      return { type: name, payload: payload as RunCancelledPayload };
  }
  return { type: 'other', payload };
}

/** The tool's name is `tool`; some upstream versions sent `name`. */
function hasToolName(payload: JsonRecord): boolean {
  if (typeof payload.tool === 'string') return true;
  if (typeof payload.name === 'string') {
    payload.tool = payload.name;
    return true;
  }
  return false;
}

function encodeOutput(payload: JsonRecord): void {
  const output = payload.output;
  if (output === undefined || typeof output === 'string') return;
  if (output === null) delete payload.output;
  else payload.output = JSON.stringify(output);
}

function dropUnless(payload: JsonRecord, key: string, valid: (value: unknown) => boolean): void {
  if (key in payload && !valid(payload[key])) delete payload[key];
}

const isString = (value: unknown): boolean => typeof value === 'string';
const isNonEmptyString = (value: unknown): boolean => typeof value === 'string' && value !== '';
const isNumber = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);
const isBooleanOrString = (value: unknown): boolean =>
  typeof value === 'boolean' || typeof value === 'string';
const isStringArray = (value: unknown): boolean =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

function isUsage(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const usage = value as JsonRecord;
  return ['input_tokens', 'output_tokens', 'total_tokens'].every(
    (key) => usage[key] === undefined || isNumber(usage[key]),
  );
}
