import type { HermesUsage } from '../hermes/hermes-events';
import type { MessageDto } from '../sessions/dto/message.response.dto';
import type { ToolCall } from '../sessions/session.types';
import type { ErrorCode } from '../common/errors/app-error';
import type {
  CompressionCompletedPayload,
  CompressionStartedPayload,
} from '../compression/compression.events';

export type { CompressionCompletedPayload, CompressionStartedPayload };

/**
 * The server → client contract of the `/chat-run` namespace, in one place. Every payload is sent
 * through `SessionEmitter`, which adds `event`, `session_id` and (for room events) `seq`.
 */

export interface QueueItemView {
  queue_id: string;
  input: string;
  created_at: number;
}

/** Events that describe the active run's state; a resuming client gets them in `resumed.events`. */
export type RunStateEvent =
  | { event: 'compression.started'; data: CompressionStartedPayload }
  | { event: 'compression.completed'; data: CompressionCompletedPayload }
  | { event: 'abort.started'; data: AbortStartedPayload };

export interface AbortStartedPayload {
  run_id: string;
  graceMs: number;
}

/** A state event in `resumed.events`: its payload names the event too. */
export interface ResumedStateEvent {
  event: RunStateEvent['event'];
  data: RunStateEvent['data'] & { event: RunStateEvent['event'] };
}

export interface RunFailedPayload {
  run_id?: string;
  error: string;
  code: RunFailureCode;
  queue_remaining: number;
  /** Unix seconds: when the run was reported failed. */
  timestamp: number;
}

export type RunFailureCode =
  | 'upstream_error'
  | 'upstream_unavailable'
  | 'protocol_error'
  | 'stream_lost'
  | 'interrupted'
  | 'storage_error'
  | 'run_timeout'
  | 'unknown_profile'
  | 'internal_error';

export interface RunCompletedEventPayload {
  run_id: string;
  output?: string;
  usage?: HermesUsage;
  queue_remaining: number;
  parsed_content?: string;
  parsed_tool_calls?: ToolCall[] | null;
  parsed_reasoning?: string | null;
  [upstreamField: string]: unknown;
}

export interface ResumedPayload {
  messages: MessageDto[];
  isWorking: boolean;
  isAborting: boolean;
  events: ResumedStateEvent[];
  inputTokens: number;
  outputTokens: number;
  queueLength: number;
  queue: QueueItemView[];
  messageTotal: number;
  hasMoreBefore: boolean;
  /** Latest seq of the session. */
  seq: number;
  replayed?: boolean;
}

/** Payloads of the events the gateway itself produces. */
export interface GatewayEventPayloads {
  resumed: ResumedPayload;
  'run.queued': { queue_length: number };
  'run.started': { run_id: string; status: string; queue_length: number };
  'run.completed': RunCompletedEventPayload;
  'run.failed': RunFailedPayload;
  'compression.started': CompressionStartedPayload;
  'compression.completed': CompressionCompletedPayload;
  'usage.updated': { inputTokens: number; outputTokens: number };
  'abort.started': AbortStartedPayload;
  'abort.completed': {
    run_id?: string;
    synced: boolean;
    ignored?: boolean;
    queue_length?: number;
  };
  'request.error': { request: string; code: ErrorCode; message: string };
}

export type GatewayEventName = keyof GatewayEventPayloads;

/** An upstream event forwarded as-is (its own fields, e.g. `delta`, `run_id`, `tool`). */
export type UpstreamEventPayload = Record<string, unknown>;

/** Added to every payload on the wire. */
export interface EventTags {
  event: string;
  session_id?: string;
  seq?: number;
}

export type WireEvent<P> = P & EventTags;

export type ServerToClientEvents = {
  [K in GatewayEventName]: (payload: WireEvent<GatewayEventPayloads[K]>) => void;
} & Record<string, (payload: WireEvent<UpstreamEventPayload>) => void>;

// --- client → server ---------------------------------------------------------------------------

/** A content block of a `run` input. */
export type RunInputBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; name: string; path: string; media_type: string }
  | { type: 'file'; name: string; path: string; media_type?: string };

export interface RunRequestPayload {
  input: string | RunInputBlock[];
  session_id?: string;
  model?: string;
  instructions?: string;
  queue_id?: string;
}

export interface SessionRefPayload {
  session_id: string;
}

export interface CancelQueuedRunPayload extends SessionRefPayload {
  queue_id: string;
}

export interface ResumeRequestPayload extends SessionRefPayload {
  after_seq?: number;
  limit?: number;
}

export interface ApprovalRespondPayload extends SessionRefPayload {
  choice: 'once' | 'session' | 'always' | 'deny';
  request_id?: string;
}

/** What each request's acknowledgement carries when it succeeded (besides `ok: true`). */
export interface AckResults {
  run: {
    session_id: string | null;
    status: 'started' | 'queued' | 'duplicate';
    queue_id: string | null;
    queue_length: number;
  };
  cancel_queued_run: { removed: boolean; queue_length: number };
  resume: { session_id: string; seq: number; replayed: boolean | null };
  abort: { session_id: string; aborting: boolean };
  'approval.respond': { session_id: string };
}

export type ClientRequestName = keyof AckResults;

export interface AckFailure {
  ok: false;
  error: { code: ErrorCode; message: string };
}

export type AckReply<K extends ClientRequestName> = ({ ok: true } & AckResults[K]) | AckFailure;

/** The acknowledgement callback a client may pass with a request. */
export type AckCallback<K extends ClientRequestName> = (reply: AckReply<K>) => void;

export interface ClientRequestPayloads {
  run: RunRequestPayload;
  cancel_queued_run: CancelQueuedRunPayload;
  resume: ResumeRequestPayload;
  abort: SessionRefPayload;
  'approval.respond': ApprovalRespondPayload;
}

export type ClientToServerEvents = {
  [K in ClientRequestName]: (payload: ClientRequestPayloads[K], ack?: AckCallback<K>) => void;
};
