import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { ChatRunError } from './chat-run-error';
import { Listeners } from './listeners';
import type {
  AckReply,
  AckSuccess,
  ApprovalChoice,
  ClientRequestName,
  ClientRequestPayloads,
  ClientToServerEvents,
  RunInputBlock,
  ServerEventName,
  ServerEvents,
  ServerToClientEvents,
  UpstreamEventPayload,
  WireEvent,
} from './protocol';
import { SessionCursors, type SeqStore } from './session-cursors';

/**
 * A typed client of the gateway's `/chat-run` namespace that gives the application every event
 * of the sessions it follows exactly once, across reconnects and page reloads: it keeps the
 * last `seq` of each session, resumes with `after_seq` on every (re)connect, drops events it
 * has seen (seq ≤ last), and hands over the `resumed` snapshot when the server could not
 * replay (`replayed` not true), so the application rebuilds that session from it.
 */

export interface ChatRunClientOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8648`. */
  url: string;
  /** The gateway's token (the same as REST's bearer token); none when its auth is disabled. */
  token?: string;
  /** The Hermes profile of this connection's runs (default `default`). */
  profile?: string;
  /** Where the last seq of each session is kept (default: in memory). */
  seqStore?: SeqStore;
  /** How long a request waits for its acknowledgement (default 10 s). */
  requestTimeoutMs?: number;
  /** socket.io-client options (reconnection, transports, …) over the defaults. */
  socket?: Partial<ManagerOptions & SocketOptions>;
}

export interface RunOptions {
  /** Without it the run is session-less: its events come to this socket only. */
  sessionId?: string;
  model?: string;
  instructions?: string;
  /** The request id; default a random UUID. Sending the same one again never runs twice. */
  queueId?: string;
}

export interface ResumeResult {
  seq: number;
  /** `true`: the missed events follow; `false`/`null`: the snapshot is the state to show. */
  replayed: boolean | null;
  snapshot: ServerEvents['resumed'];
}

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type AnyEvent = WireEvent<UpstreamEventPayload>;
/** socket.io's typed `emitWithAck` cannot follow a request name that is a type parameter. */
interface AckSender {
  emitWithAck(event: ClientRequestName, payload: object): Promise<unknown>;
}

export class ChatRunClient {
  /** The underlying socket.io-client socket (its events are not deduplicated). */
  readonly socket: ChatSocket;
  private readonly cursors: SessionCursors;
  private readonly followed = new Set<string>();
  private readonly timeoutMs: number;
  private readonly byEvent = new Map<string, Listeners<[AnyEvent]>>();
  private readonly anyListeners: Listeners<[string, AnyEvent]>;
  private readonly snapshotListeners: Listeners<[ServerEvents['resumed']]>;
  private readonly errorListeners: Listeners<[Error]>;
  private readonly lastResumed = new Map<string, ServerEvents['resumed']>();
  private connectedOnce = false;

  constructor(options: ChatRunClientOptions) {
    this.cursors = new SessionCursors(options.seqStore);
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    const report = (error: unknown) => this.reportError(error);
    this.anyListeners = new Listeners(report);
    this.snapshotListeners = new Listeners(report);
    this.errorListeners = new Listeners((error) => rethrowLater(error));
    this.socket = io(`${options.url.replace(/\/+$/, '')}/chat-run`, {
      transports: ['websocket'],
      autoConnect: false,
      ...options.socket,
      auth: options.token === undefined ? {} : { token: options.token },
      query: options.profile ? { profile: options.profile } : {},
    });
    this.socket.onAny((event: string, payload: unknown) => this.receive(event, payload));
    this.socket.on('connect', () => this.onConnect());
  }

  /** Connects; rejects with the server's reason (e.g. `Authentication failed`). */
  connect(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.socket.off('connect', onConnect);
        this.socket.off('connect_error', onError);
      };
      const onConnect = () => {
        cleanup();
        resolve();
      };
      const onError = (error: Error) => {
        // Still retrying by itself (the server is unreachable): keep waiting. A refused
        // handshake (bad token, unknown profile) is final.
        if (this.socket.active && this.socket.io.reconnection()) return;
        cleanup();
        reject(error);
      };
      this.socket.on('connect', onConnect);
      this.socket.on('connect_error', onError);
      this.socket.connect();
    });
  }

  /** Every event of this name, once; the returned function removes the listener. */
  on<K extends ServerEventName>(event: K, listener: (payload: ServerEvents[K]) => void): () => void;
  on(event: string, listener: (payload: AnyEvent) => void): () => void;
  on(event: string, listener: (payload: AnyEvent) => void): () => void {
    let listeners = this.byEvent.get(event);
    if (!listeners) {
      listeners = new Listeners((error) => this.reportError(error));
      this.byEvent.set(event, listeners);
    }
    return listeners.add(listener);
  }

  /** Every event, once, with its name (upstream events the protocol does not name too). */
  onAny(listener: (event: string, payload: AnyEvent) => void): () => void {
    return this.anyListeners.add(listener);
  }

  /**
   * A session must be rebuilt from this snapshot: the first `resume`, or one whose missed events
   * the server no longer holds. Live events after `snapshot.seq` follow.
   */
  onSnapshot(listener: (snapshot: ServerEvents['resumed']) => void): () => void {
    return this.snapshotListeners.add(listener);
  }

  /** Failures the application did not ask for: an automatic resume, a throwing listener. */
  onError(listener: (error: Error) => void): () => void {
    return this.errorListeners.add(listener);
  }

  /** The last seq seen of a session. */
  lastSeq(sessionId: string): number | undefined {
    return this.cursors.last(sessionId);
  }

  /**
   * Follows a session: joins its room and catches up from the last seen seq (exact replay when
   * the server still holds the events, else a snapshot). It is resumed again on every reconnect.
   */
  async resume(sessionId: string, options: { limit?: number } = {}): Promise<ResumeResult> {
    this.followed.add(sessionId);
    this.lastResumed.delete(sessionId);
    const afterSeq = this.cursors.last(sessionId);
    const ack = await this.request('resume', {
      session_id: sessionId,
      ...(afterSeq === undefined ? {} : { after_seq: afterSeq }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    });
    // The server sends `resumed` before it acknowledges.
    const snapshot = this.lastResumed.get(sessionId);
    if (!snapshot) throw new Error(`resume of ${sessionId} was acknowledged without a snapshot`);
    return { seq: ack.seq, replayed: ack.replayed, snapshot };
  }

  /** Starts (or queues) a run; with a `sessionId` the session is followed from now on. */
  run(input: string | RunInputBlock[], options: RunOptions = {}): Promise<AckSuccess<'run'>> {
    if (options.sessionId !== undefined) this.followed.add(options.sessionId);
    return this.request('run', {
      input,
      queue_id: options.queueId ?? globalThis.crypto.randomUUID(),
      ...(options.sessionId === undefined ? {} : { session_id: options.sessionId }),
      ...(options.model === undefined ? {} : { model: options.model }),
      ...(options.instructions === undefined ? {} : { instructions: options.instructions }),
    });
  }

  cancelQueued(sessionId: string, queueId: string): Promise<AckSuccess<'cancel_queued_run'>> {
    return this.request('cancel_queued_run', { session_id: sessionId, queue_id: queueId });
  }

  abort(sessionId: string): Promise<AckSuccess<'abort'>> {
    return this.request('abort', { session_id: sessionId });
  }

  respondToApproval(
    sessionId: string,
    choice: ApprovalChoice,
    requestId?: string,
  ): Promise<AckSuccess<'approval.respond'>> {
    return this.request('approval.respond', {
      session_id: sessionId,
      choice,
      ...(requestId === undefined ? {} : { request_id: requestId }),
    });
  }

  close(): void {
    this.socket.disconnect();
  }

  /** Sends a request and resolves its result, or rejects with the server's `ChatRunError`. */
  private async request<K extends ClientRequestName>(
    name: K,
    payload: ClientRequestPayloads[K],
  ): Promise<AckSuccess<K>> {
    const sender: AckSender = this.socket.timeout(this.timeoutMs);
    const reply = (await sender.emitWithAck(name, payload)) as AckReply<K>;
    if (!reply.ok) throw new ChatRunError(reply.error.code, reply.error.message);
    return reply;
  }

  private onConnect(): void {
    if (!this.connectedOnce) {
      this.connectedOnce = true;
      return;
    }
    // A new socket is in no room: catch up on every followed session.
    for (const sessionId of this.followed) {
      this.resume(sessionId).catch((error: unknown) => this.reportError(error));
    }
  }

  private receive(event: string, payload: unknown): void {
    if (typeof payload !== 'object' || payload === null) return;
    const wire = payload as AnyEvent;
    const sessionId = typeof wire.session_id === 'string' ? wire.session_id : undefined;
    if (event === 'resumed' && sessionId !== undefined && isSnapshot(wire)) {
      this.onResumed(sessionId, wire);
    } else if (sessionId !== undefined && typeof wire.seq === 'number') {
      if (!this.cursors.admit(sessionId, wire.seq)) return;
    }
    this.byEvent.get(event)?.emit(wire);
    this.anyListeners.emit(event, wire);
  }

  /** `resumed.seq` is the session's latest seq, not the event's own number. */
  private onResumed(sessionId: string, snapshot: ServerEvents['resumed']): void {
    this.lastResumed.set(sessionId, snapshot);
    if (snapshot.replayed === true) return;
    this.cursors.rebase(sessionId, snapshot.seq);
    this.snapshotListeners.emit(snapshot);
  }

  private reportError(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    if (this.errorListeners.size === 0) rethrowLater(failure);
    else this.errorListeners.emit(failure);
  }
}

function isSnapshot(wire: { seq?: unknown; messages?: unknown }): wire is ServerEvents['resumed'] {
  return typeof wire.seq === 'number' && Array.isArray(wire.messages);
}

/** Like an EventEmitter's unhandled `error`: nobody listens, so it must not vanish. */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
