import type { HermesRunEvent } from '../../hermes/hermes-events';
import type { GatewayEventName, GatewayEventPayloads, RunStateEvent } from '../chat-run.events';
import type { SessionRuntime } from '../runtime/session-runtime';
import type { ChatSocket, SessionEmitter } from '../session-emitter';

/** Who hears a run: its session's room, or (session-less) the one socket that asked. */
export interface RunAudience {
  /** An event the gateway makes (`run.started`, `usage.updated`, the terminal event, …). */
  emit<K extends GatewayEventName>(event: K, payload: GatewayEventPayloads[K]): void;
  /** An upstream event, forwarded as it came. */
  forward(event: HermesRunEvent): void;
  /** A state event of the run (compression, abort), which a resuming client also gets. */
  state(state: RunStateEvent): void;
}

/** Everyone in the session's room, numbered and logged for replay. */
export class RoomAudience implements RunAudience {
  constructor(
    private readonly emitter: SessionEmitter,
    private readonly runtime: SessionRuntime,
  ) {}

  emit<K extends GatewayEventName>(event: K, payload: GatewayEventPayloads[K]): void {
    this.emitter.toSession(this.runtime.sessionId, event, payload);
  }

  forward(event: HermesRunEvent): void {
    this.emitter.forward(this.runtime.sessionId, event.payload.event, event.payload);
  }

  state(state: RunStateEvent): void {
    this.runtime.setStateEvent(state);
    this.emitter.toSessionState(this.runtime.sessionId, state);
  }
}

/** The socket of a session-less run: no room, no seq, nothing kept. */
export class SocketAudience implements RunAudience {
  constructor(
    private readonly emitter: SessionEmitter,
    private readonly socket: ChatSocket,
  ) {}

  emit<K extends GatewayEventName>(event: K, payload: GatewayEventPayloads[K]): void {
    this.emitter.toSocket(this.socket, event, payload);
  }

  forward(event: HermesRunEvent): void {
    this.emitter.toSocket(this.socket, event.payload.event, event.payload);
  }

  state(state: RunStateEvent): void {
    this.emitter.toSocket(this.socket, state.event, state.data);
  }
}
