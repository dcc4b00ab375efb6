import { ChatRunClient, type WireEvent } from '@hermes-chat-gateway/client';
import type { Socket } from 'socket.io-client';

/** A payload as the gateway sends it: `event`, `session_id`, `seq` and the event's fields. */
export type Received = WireEvent<Record<string, unknown>>;

/**
 * A `ChatRunClient` connection to `/chat-run` (no reconnection) whose raw socket is recorded:
 * every event as the server sent it, duplicates included, so tests can wait for one and then
 * assert on the whole ordered log. Requests go out raw too (tests send malformed payloads);
 * `chat` is the typed client for tests that want it.
 */
export class ChatClient {
  readonly events: Received[] = [];
  private waiters: { match: (event: Received) => boolean; resolve: (event: Received) => void }[] =
    [];

  private constructor(readonly chat: ChatRunClient) {
    chat.socket.onAny((name: string, payload: Received) => {
      const event = { ...payload, event: payload?.event ?? name };
      this.events.push(event);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(event)) return true;
        waiter.resolve(event);
        return false;
      });
    });
  }

  static async connect(
    baseUrl: string,
    options: { token?: string; profile?: string } = {},
  ): Promise<ChatClient> {
    const chat = new ChatRunClient({
      url: baseUrl,
      token: options.token,
      profile: options.profile,
      socket: { reconnection: false, forceNew: true },
    });
    const client = new ChatClient(chat);
    await chat.connect();
    return client;
  }

  /** The raw socket.io-client socket. */
  get socket(): Socket {
    return this.chat.socket;
  }

  /** Emits with an ack and resolves the server's answer. */
  request<T = Record<string, unknown>>(
    event: string,
    payload: unknown,
    timeoutMs = 10000,
  ): Promise<T> {
    return this.socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;
  }

  /** The first recorded event (already received or coming) that matches. */
  waitFor(
    event: string,
    where: (payload: Received) => boolean = () => true,
    timeoutMs = 10000,
  ): Promise<Received> {
    const match = (payload: Received) => payload.event === event && where(payload);
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== done);
        reject(
          new Error(
            `Timed out waiting for ${event}; got ${this.events.map((e) => e.event).join(', ')}`,
          ),
        );
      }, timeoutMs);
      const done = (payload: Received) => {
        clearTimeout(timer);
        resolve(payload);
      };
      this.waiters.push({ match, resolve: done });
    });
  }

  /** Events of one session, in arrival order. */
  of(sessionId: string, event?: string): Received[] {
    return this.events.filter(
      (e) => e.session_id === sessionId && (event === undefined || e.event === event),
    );
  }

  close(): void {
    this.chat.close();
  }
}

/** The text a client shows for a session: the concatenated `message.delta`s. */
export function streamedText(events: readonly Received[]): string {
  return events
    .filter((e) => e.event === 'message.delta')
    .map((e) => String(e.delta))
    .join('');
}

/** The clients a spec opened, closed together after each test (or all of them). */
export class OpenClients {
  private readonly open: ChatClient[] = [];

  async connect(baseUrl: string, options: { token?: string; profile?: string } = {}) {
    const client = await ChatClient.connect(baseUrl, options);
    this.open.push(client);
    return client;
  }

  closeAll(): void {
    for (const client of this.open.splice(0)) client.close();
  }
}
