import { io, type Socket } from 'socket.io-client';

/** A gateway event as the client receives it. */
export type ServerEvent = Record<string, unknown> & {
  event: string;
  session_id?: string;
  seq?: number;
};

type AckReply = { ok: true } & Record<string, unknown>;
type AckError = { ok: false; error: { code: string; message: string } };

/** One socket.io-client connection to `/chat-run`, WebSocket only, like a browser tab. */
export function connect(url: string, token: string): Promise<Socket> {
  const socket = io(`${url}/chat-run`, {
    transports: ['websocket'],
    auth: { token },
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** `count` connections, opened `batch` at a time (a burst of handshakes is not what we measure). */
export async function connectMany(
  url: string,
  token: string,
  count: number,
  batch = 50,
): Promise<Socket[]> {
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < count; i += batch) {
      const size = Math.min(batch, count - i);
      sockets.push(...(await Promise.all(Array.from({ length: size }, () => connect(url, token)))));
    }
  } catch (error) {
    closeAll(sockets);
    throw error;
  }
  return sockets;
}

export function closeAll(sockets: readonly Socket[]): void {
  for (const socket of sockets) socket.disconnect();
}

/** Emits with an ack and resolves the reply; a `{ ok: false }` reply becomes an error. */
export async function request(
  socket: Socket,
  event: string,
  payload: unknown,
  timeoutMs = 30_000,
): Promise<AckReply> {
  const reply = (await socket.timeout(timeoutMs).emitWithAck(event, payload)) as
    AckReply | AckError;
  if (!reply.ok) throw new Error(`${event} refused: ${reply.error.code} ${reply.error.message}`);
  return reply;
}

/** The next `event` on `socket` for which `match` holds. */
export function nextEvent(
  socket: Socket,
  event: string,
  match: (payload: ServerEvent) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<ServerEvent> {
  return new Promise((resolve, reject) => {
    const listener = (payload: ServerEvent): void => {
      if (!match(payload)) return;
      cleanup();
      resolve(payload);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${event}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off(event, listener);
    };
    socket.on(event, listener);
  });
}

/** POST /api/sessions (the REST API), so that extra clients can `resume` before the first run. */
export async function createSession(url: string, token: string, id: string): Promise<void> {
  const response = await fetch(`${url}/api/sessions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ id }),
  });
  const text = await response.text();
  if (response.status !== 201 && response.status !== 200) {
    throw new Error(`POST /api/sessions ${id}: ${response.status} ${text}`);
  }
}

/**
 * Watches one run of one session on a socket: when each event was first seen (ms after `start`)
 * and its payload. Listening starts at construction, before the `run` is sent, so that no event
 * can slip past between two awaits.
 */
export class RunWatch {
  readonly at = new Map<string, number>();
  readonly payloads = new Map<string, ServerEvent>();
  private t0 = performance.now();
  private readonly waiters = new Set<{
    events: readonly string[];
    resolve: (event: string) => void;
  }>();
  private readonly listener = (event: string, payload: ServerEvent): void => {
    if (payload?.session_id !== this.sessionId || this.at.has(event)) return;
    this.at.set(event, performance.now() - this.t0);
    this.payloads.set(event, payload);
    for (const waiter of this.waiters) {
      if (waiter.events.includes(event)) {
        this.waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  };

  constructor(
    private readonly socket: Socket,
    private readonly sessionId: string,
  ) {
    socket.onAny(this.listener);
  }

  /** Starts the clock (right before sending `run`). */
  start(): void {
    this.t0 = performance.now();
  }

  /** Resolves with whichever of `events` comes first (or already came). */
  waitFor(events: readonly string[], timeoutMs = 60_000): Promise<string> {
    const seen = events.find((event) => this.at.has(event));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${events.join(' or ')} of ${this.sessionId}`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        events,
        resolve: (event: string) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      this.waiters.add(waiter);
    });
  }

  close(): void {
    this.socket.offAny(this.listener);
  }
}
