import { Injectable } from '@nestjs/common';
import type { Namespace, Socket } from 'socket.io';
import { EventLog } from './event-log/event-log.service';
import { withReferenceFields } from './reference-event-fields';
import type {
  GatewayEventName,
  GatewayEventPayloads,
  RunStateEvent,
  ServerToClientEvents,
  UpstreamEventPayload,
} from './chat-run.events';

export type ChatNamespace = Namespace<Record<string, never>, ServerToClientEvents>;
export type ChatSocket = Socket<Record<string, never>, ServerToClientEvents>;

export const sessionRoom = (sessionId: string): string => `session:${sessionId}`;

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

  /** To one socket only, without seq (replies such as `resumed`, and session-less runs). */
  toSocket<K extends GatewayEventName>(
    socket: ChatSocket,
    event: K,
    payload: GatewayEventPayloads[K],
    sessionId?: string,
  ): void;
  toSocket(
    socket: ChatSocket,
    event: string,
    payload: UpstreamEventPayload,
    sessionId?: string,
  ): void;
  toSocket(socket: ChatSocket, event: string, payload: object, sessionId?: string): void {
    socket.emit(event, {
      ...withReferenceFields(event, payload),
      event,
      ...(sessionId ? { session_id: sessionId } : {}),
    });
  }

  /** Replays recorded events (already tagged) to one socket. */
  replay(socket: ChatSocket, events: readonly { event: string }[]): void {
    for (const recorded of events) socket.emit(recorded.event, recorded);
  }

  private emit(sessionId: string, event: string, payload: object): void {
    const wire = this.log.append(sessionId, event, withReferenceFields(event, payload));
    this.namespace?.to(sessionRoom(sessionId)).emit(event, wire);
  }
}
