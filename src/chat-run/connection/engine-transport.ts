import type { ChatSocket } from '../session-emitter';

/**
 * The few things the connection limits need from below Socket.IO, in one place: Engine.IO's
 * transports and the `ws` socket under its WebSocket transport. Socket.IO has no public handle
 * for a per-connection frame limit or for the bytes queued on a socket, so this reaches for
 * them by shape, checking each before use; when a shape is not there (another version), the
 * functions say so instead of failing, and the caller falls back to the safe side.
 */

export type EngineConnection = ChatSocket['conn'];
export type EngineTransport = EngineConnection['transport'];

/** A `ws` WebSocket: public `bufferedAmount` and `terminate()`, and its frame parser. */
interface WsSocket {
  bufferedAmount: number;
  terminate(): void;
  /** ws's Receiver, which refuses a frame over `_maxPayload` from its header alone. */
  _receiver?: { _maxPayload?: unknown };
}

function wsOf(transport: EngineTransport): WsSocket | undefined {
  if (transport.name !== 'websocket') return undefined;
  const socket = (transport as unknown as { socket?: Partial<WsSocket> }).socket;
  if (typeof socket?.bufferedAmount !== 'number' || typeof socket.terminate !== 'function') {
    return undefined;
  }
  return socket as WsSocket;
}

/**
 * Sets the largest frame (WebSocket message or polling request body) this transport accepts
 * from now on. False when the transport offers no such setting.
 */
export function setFrameLimit(transport: EngineTransport, bytes: number): boolean {
  const ws = wsOf(transport);
  if (ws) {
    const receiver = ws._receiver;
    if (typeof receiver?._maxPayload !== 'number') return false;
    receiver._maxPayload = bytes;
    return true;
  }
  if (transport.name === 'polling') {
    // Each transport has its own options object; the polling transport reads it per request.
    const options = (transport as unknown as { opts?: { maxHttpBufferSize?: unknown } }).opts;
    if (typeof options?.maxHttpBufferSize !== 'number') return false;
    options.maxHttpBufferSize = bytes;
    return true;
  }
  return false;
}

/** Bytes the transport has taken for this connection and not yet handed to the OS. */
export function transportBufferedBytes(transport: EngineTransport): number {
  return wsOf(transport)?.bufferedAmount ?? 0;
}

/**
 * Closes the connection now, dropping whatever is still queued for it: a reader that stopped
 * reading would otherwise keep its backlog until the close handshake times out.
 */
export function closeNow(connection: EngineConnection): void {
  const ws = wsOf(connection.transport);
  connection.close(true);
  ws?.terminate();
}
