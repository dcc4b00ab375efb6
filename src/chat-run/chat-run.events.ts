import type { HermesUsage } from '../hermes/hermes-events';
import type { MessageDto } from '../sessions/dto/message.response.dto';
import type { ToolCall } from '../sessions/session.types';
import type { ErrorCode } from '../common/errors/app-error';

/**
 * The server → client contract of the `/chat-run` namespace, in one place. Every payload is sent
 * through `SessionEmitter`, which adds `event`, `session_id` and (for room events) `seq`.
 */

export interface QueueItemView {
  queue_id: string;
  input: string;
  created_at: number;
}

export interface CompressionStartedPayload {
  message_count: number;
  token_count: number;
}

export interface CompressionCompletedPayload {
  compressed: boolean;
  llmCompressed: boolean;
  totalMessages: number;
  resultMessages: number;
  beforeTokens: number;
  afterTokens: number;
  summaryTokens: number;
  verbatimCount: number;
  compressedStartIndex: number;
  error?: string;
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
  /** Unix seconds; stamped when sent if the run's end did not carry one. */
  timestamp?: number;
}

export type RunFailureCode =
  | 'upstream_error'
  | 'upstream_unavailable'
  | 'protocol_error'
  | 'stream_lost'
  | 'interrupted'
  | 'storage_error'
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
