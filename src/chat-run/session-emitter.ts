import { Injectable } from '@nestjs/common';
import type { Namespace, Socket } from 'socket.io';
import { EventLog } from './event-log/event-log.service';
import type { FORWARDED_REQUEST, ForwardedAnswer, ForwardedRequest } from './session-requests';
import type {
  ClientToServerEvents,
  GatewayEventName,
  GatewayEventPayloads,
  RunStateEvent,
  ServerToClientEvents,
  UpstreamEventPayload,
} from './chat-run.events';

/** What the handshake settles for a socket. */
export interface ChatSocketData {
  /** The Hermes profile its runs use. */
  profile: string;
}

/** Between instances: a request about a session, forwarded to the instance that holds it. */
interface ServerSideEvents {
  [FORWARDED_REQUEST]: (
    request: ForwardedRequest,
    respond: (answer: ForwardedAnswer | null) => void,
  ) => void;
}

export type ChatNamespace = Namespace<
  ClientToServerEvents,
  ServerToClientEvents,
  ServerSideEvents,
  ChatSocketData
>;
export type ChatSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  ServerSideEvents,
  ChatSocketData
>;

/** The namespace clients connect to. */
export const CHAT_NAMESPACE = '/chat-run';

export const sessionRoom = (sessionId: string): string => `session:${sessionId}`;

/** A socket of this instance, or the id of a socket connected to any instance. */
export type SocketTarget = ChatSocket | string;

/**
 * The one path by which events reach clients. Room events get `event`, `session_id` and the
 * session's next `seq`, are recorded in the event log for replay, then emitted; nothing else in
 * the server calls `emit` on the namespace.
 */
@Injectable()
export class SessionEmitter {
  private namespace: ChatNamespace | undefined;

  constructor(private readonly log: EventLog) {}

  bind(namespace: ChatNamespace): void {
    this.namespace = namespace;
  }

  /** Sockets connected to this instance's namespace. */
  get connections(): number {
    return this.namespace?.sockets.size ?? 0;
  }

  /** How many sockets are in the session's room (an evicted session must have none). */
  listeners(sessionId: string): number {
    return this.namespace?.adapter.rooms.get(sessionRoom(sessionId))?.size ?? 0;
  }

  /** A gateway event to everyone in the session's room. */
  toSession<K extends GatewayEventName>(
    sessionId: string,
    event: K,
    payload: GatewayEventPayloads[K],
  ): void {
    this.emit(sessionId, event, payload);
  }

  /** A state event of the active run (compression, abort) to the session's room. */
  toSessionState(sessionId: string, state: RunStateEvent): void {
    this.emit(sessionId, state.event, state.data);
  }

  /** An upstream event forwarded as it came; its `session_id` is replaced by ours. */
  forward(sessionId: string, event: string, payload: UpstreamEventPayload): void {
    this.emit(sessionId, event, payload);
  }

  /**
   * To one socket only, without seq (replies such as `resumed`, and session-less runs). The
   * socket is this instance's, or (several instances) named by its id wherever it is.
   */
  toSocket<K extends GatewayEventName>(
    socket: SocketTarget,
    event: K,
    payload: GatewayEventPayloads[K],
    sessionId?: string,
  ): void;
  toSocket(
    socket: SocketTarget,
    event: string,
    payload: UpstreamEventPayload,
    sessionId?: string,
  ): void;
  toSocket(socket: SocketTarget, event: string, payload: object, sessionId?: string): void {
    const wire = { ...payload, event, ...(sessionId ? { session_id: sessionId } : {}) };
    if (typeof socket === 'string') this.namespace?.to(socket).emit(event, wire);
    else socket.emit(event, wire);
  }

  /** Replays recorded events (already tagged) to one socket. */
  replay(socket: SocketTarget, events: readonly { event: string }[]): void {
    for (const recorded of events) {
      if (typeof socket === 'string') this.namespace?.to(socket).emit(recorded.event, recorded);
      else socket.emit(recorded.event, recorded);
    }
  }

  /**
   * Joins a socket to the session's room. For a socket on another instance the join travels the
   * same way as the events sent to it before, so it takes effect after them.
   */
  join(socket: SocketTarget, sessionId: string): void {
    if (typeof socket === 'string') this.namespace?.in(socket).socketsJoin(sessionRoom(sessionId));
    else void socket.join(sessionRoom(sessionId));
  }

  private emit(sessionId: string, event: string, payload: object): void {
    const wire = this.log.append(sessionId, event, payload);
    this.namespace?.to(sessionRoom(sessionId)).emit(event, wire);
  }
}
