import type { ErrorCode } from './errors';

/**
 * Client → server requests of the `/chat-run` namespace and their acknowledgements. Every
 * request takes an optional ack callback; without one, a rejected request is reported with a
 * `request.error` event to the asking socket.
 */

/** A content block of a `run` input. */
export type RunInputBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; name: string; path: string; media_type: string }
  | { type: 'file'; name: string; path: string; media_type?: string };

export interface RunRequestPayload {
  /** Non-empty text, or a non-empty array of blocks; at most `MAX_INPUT_BYTES` of UTF-8. */
  input: string | RunInputBlock[];
  /** Without it the run is session-less: its events go to this socket only, nothing is stored. */
  session_id?: string;
  model?: string;
  instructions?: string;
  /** The client's request id: a repeated one is answered `duplicate` and starts nothing. */
  queue_id?: string;
}

export interface SessionRefPayload {
  session_id: string;
}

export interface CancelQueuedRunPayload extends SessionRefPayload {
  queue_id: string;
}

export interface ResumeRequestPayload extends SessionRefPayload {
  /** The last seq the client holds: the events after it are replayed when still kept. */
  after_seq?: number;
  /** Messages in `resumed.messages` (default 200, at most 1000). */
  limit?: number;
}

export type ApprovalChoice = 'once' | 'session' | 'always' | 'deny';

export interface ApprovalRespondPayload extends SessionRefPayload {
  choice: ApprovalChoice;
  request_id?: string;
}

export interface ClientRequestPayloads {
  run: RunRequestPayload;
  cancel_queued_run: CancelQueuedRunPayload;
  resume: ResumeRequestPayload;
  abort: SessionRefPayload;
  'approval.respond': ApprovalRespondPayload;
}

export type ClientRequestName = keyof ClientRequestPayloads;

/** What each request's acknowledgement carries when it succeeded (besides `ok: true`). */
export interface AckResults {
  run: {
    /** `null` for a session-less run. */
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

export interface AckFailure {
  ok: false;
  error: { code: ErrorCode; message: string };
}

export type AckSuccess<K extends ClientRequestName> = { ok: true } & AckResults[K];

export type AckReply<K extends ClientRequestName> = AckSuccess<K> | AckFailure;

/** Every request's acknowledgement, by request. */
export type AckReplies = { [K in ClientRequestName]: AckReply<K> };

/** The acknowledgement callback a client may pass with a request. */
export type AckCallback<K extends ClientRequestName> = (reply: AckReply<K>) => void;

export type ClientToServerEvents = {
  [K in ClientRequestName]: (payload: ClientRequestPayloads[K], ack?: AckCallback<K>) => void;
};
