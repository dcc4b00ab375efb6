import type { ErrorCode, RunFailureCode } from './errors';
import type { ChatMessage, ToolCall } from './messages';
import type { ClientRequestName } from './client-requests';

/**
 * Server → client events of the `/chat-run` namespace: the events the gateway makes, and the
 * upstream (Hermes) events it relays. Every payload reaches the client with `event`,
 * `session_id` and (for events of a session's room) `seq` added, see `WireEvent`.
 */

/** A run waiting in a session's queue. */
export interface QueueItemView {
  queue_id: string;
  /** The run's input as text (blocks are summarised). */
  input: string;
  /** Unix seconds. */
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
  /** The id of the first message summarised this time (-1 when none was). */
  compressedStartIndex: number;
  error?: string;
}

export interface AbortStartedPayload {
  run_id: string;
  graceMs: number;
}

/** Token counts of a finished run, as the upstream reported them; extra counters kept as they came. */
export interface RunUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  [counter: string]: unknown;
}

export interface RunCompletedEventPayload {
  run_id: string;
  /**
   * The gateway's id of the run: the `run_id` of its messages and usage over REST (`run_id`
   * here is the upstream's, as its own events carry).
   */
  gateway_run_id: string;
  output?: string;
  usage?: RunUsage;
  /** Runs still queued after this one. */
  queue_remaining: number;
  /** The reply's text when the upstream sent a stringified content-block array. */
  parsed_content?: string;
  parsed_tool_calls?: ToolCall[] | null;
  parsed_reasoning?: string | null;
  /** Other upstream fields are passed on as they came. */
  [upstreamField: string]: unknown;
}

export interface RunFailedPayload {
  run_id?: string;
  /**
   * The gateway's id of the run: the `run_id` of its messages and usage over REST (`run_id`
   * here is the upstream's, as its own events carry).
   */
  gateway_run_id: string;
  /** A human-readable reason. */
  error: string;
  code: RunFailureCode;
  queue_remaining: number;
  /** Unix seconds: when the run was reported failed. */
  timestamp: number;
}

/** Events that describe the active run's state; a resuming client gets them in `resumed.events`. */
export type StateEventName = 'compression.started' | 'compression.completed' | 'abort.started';

/** A state event in `resumed.events`: its payload names the event too. */
export interface ResumedStateEvent {
  event: StateEventName;
  data: GatewayEventPayloads[StateEventName] & { event: StateEventName };
}

export interface ResumedPayload {
  /** The newest page of the transcript, with the active run's text so far. */
  messages: ChatMessage[];
  isWorking: boolean;
  isAborting: boolean;
  /** The active run's state events (compression, abort); empty when no run is active. */
  events: ResumedStateEvent[];
  inputTokens: number;
  outputTokens: number;
  queueLength: number;
  queue: QueueItemView[];
  /** How many messages a full listing holds (`messages.length <= messageTotal`). */
  messageTotal: number;
  /**
   * How many of `messages` are stored messages of the page (not the active run's drafts added
   * to it): the offset, from the newest, of the next older page. Messages stored since shift
   * it, so that page may repeat a few (drop them by `id`); it never skips one.
   */
  messageLoadedCount: number;
  hasMoreBefore: boolean;
  /** Latest seq of the session. */
  seq: number;
  /** Only when `resume` gave `after_seq`: whether the events after it follow (exact replay). */
  replayed?: boolean;
}

export interface RunStartedPayload {
  /** The upstream's id of the run, as its events carry it. */
  run_id: string;
  /**
   * The gateway's id of the run: the `run_id` of its messages and usage over REST (`run_id`
   * here is the upstream's, as its own events carry).
   */
  gateway_run_id: string;
  status: string;
  queue_length: number;
}

/** Payloads of the events the gateway itself produces. */
export interface GatewayEventPayloads {
  resumed: ResumedPayload;
  'run.queued': { queue_length: number };
  'run.started': RunStartedPayload;
  'run.completed': RunCompletedEventPayload;
  'run.failed': RunFailedPayload;
  'compression.started': CompressionStartedPayload;
  'compression.completed': CompressionCompletedPayload;
  'usage.updated': { inputTokens: number; outputTokens: number };
  'abort.started': AbortStartedPayload;
  'abort.completed': {
    run_id?: string;
    /** The gateway's id of the aborted run (absent when nothing was running). */
    gateway_run_id?: string;
    synced: boolean;
    /** Nothing was running. */
    ignored?: boolean;
    /** Present when queued runs remain: the queue including the run about to start. */
    queue_length?: number;
  };
  'request.error': { request: ClientRequestName; code: ErrorCode; message: string };
}

export type GatewayEventName = keyof GatewayEventPayloads;

/** Fields every relayed upstream event carries; any others are passed on as they came. */
export interface RelayedEventBase {
  run_id: string;
  /** Unix seconds (float). */
  timestamp: number;
  [upstreamField: string]: unknown;
}

/**
 * The upstream events the gateway knows and relays as they came (`session_id` replaced by the
 * gateway's). Other upstream events (`status.message`, `approval.responded`, …) are relayed too,
 * with `RelayedEventBase`'s fields.
 */
export interface RelayedEventPayloads {
  'message.delta': RelayedEventBase & { delta: string };
  'reasoning.delta': RelayedEventBase & { text?: string; delta?: string };
  'thinking.delta': RelayedEventBase & { text?: string; delta?: string };
  'reasoning.available': RelayedEventBase & { text: string };
  'tool.started': RelayedEventBase & { tool: string; preview?: string; tool_call_id?: string };
  'tool.completed': RelayedEventBase & {
    tool: string;
    /** Seconds. */
    duration?: number;
    error?: boolean | string;
    output?: string;
  };
  'approval.request': RelayedEventBase & {
    request_id?: string;
    command?: string;
    description?: string;
    choices?: string[];
  };
}

export type RelayedEventName = keyof RelayedEventPayloads;

/** Every named server → client event and its payload (before the wire tags). */
export type ServerEventPayloads = GatewayEventPayloads & RelayedEventPayloads;

export type ServerEventName = keyof ServerEventPayloads;

/** An upstream event the gateway has no type for, relayed as-is. */
export type UpstreamEventPayload = Record<string, unknown>;

/** Added to every payload on the wire. */
export interface EventTags {
  /** The Socket.IO event name. */
  event: string;
  /** Absent only on the events of a session-less run. */
  session_id?: string;
  /** Present on every event of a session's room: strictly increasing per session. */
  seq?: number;
}

export type WireEvent<P> = P & EventTags;

/** What a client receives for each named event. */
export type ServerEvents = {
  [K in ServerEventName]: WireEvent<ServerEventPayloads[K]> & { event: K };
};

export type ServerToClientEvents = {
  [K in ServerEventName]: (payload: ServerEvents[K]) => void;
} & Record<string, (payload: WireEvent<UpstreamEventPayload>) => void>;
