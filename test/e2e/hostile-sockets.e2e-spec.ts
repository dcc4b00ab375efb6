import {
  io,
  Manager,
  type ManagerOptions,
  type Socket,
  type SocketOptions,
} from 'socket.io-client';
import request from 'supertest';
import { FakeHermesServer } from '../fake-hermes';
import { ChatClient, OpenClients } from './support/chat-client';
import { StallingProxy } from './support/stalling-proxy';
import { destroyTestApp, startTestApp, TestApp } from './support/test-app';

/**
 * What a socket may cost (the protocol's "Limits and hostile clients"): before authentication
 * almost nothing, after it a rate limit, a send backlog and, per session and server, run caps.
 */

type Options = Partial<ManagerOptions & SocketOptions>;

/** A socket.io-client socket that is not waited for: the test decides what to expect of it. */
function open(url: string, namespace: string, options: Options): Socket {
  return io(`${url}${namespace}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...options,
  });
}

/**
 * What became of a connection attempt: connected, refused (`connect_error`), or the transport
 * closed without either. The client closes its own transport just before it reports a refusal,
 * in the same tick, so a close counts only when no refusal follows it at once.
 */
function outcome(socket: Socket): Promise<'connect' | `connect_error: ${string}` | 'closed'> {
  return new Promise((resolve) => {
    socket.once('connect', () => resolve('connect'));
    socket.once('connect_error', (error) => resolve(`connect_error: ${error.message}`));
    socket.io.once('close', () => setImmediate(() => resolve('closed')));
  });
}

/** Resolves when the Engine.IO connection of `manager` closes (with its reason). */
function transportClosed(manager: Manager, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the connection stayed open')), timeoutMs);
    manager.once('close', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

/** An open Engine.IO connection with no namespace joined: the test writes raw packets. */
async function rawConnection(url: string): Promise<{ manager: Manager; received: string[] }> {
  const manager = new Manager(url, {
    transports: ['websocket'],
    reconnection: false,
    autoConnect: false,
  });
  await new Promise<void>((resolve, reject) =>
    manager.open((error) => (error ? reject(error) : resolve())),
  );
  const received: string[] = [];
  manager.engine.on('message', (data) => received.push(String(data)));
  return { manager, received };
}

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('Hostile clients (e2e)', () => {
  let hermes: FakeHermesServer;
  let hermesUrl: string;
  const sockets: Socket[] = [];
  const managers: Manager[] = [];
  const clients = new OpenClients();

  const track = (socket: Socket): Socket => {
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    hermes = new FakeHermesServer({ keepaliveMs: 200 });
    hermesUrl = await hermes.start();
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.disconnect();
    for (const manager of managers.splice(0)) manager.engine?.close();
    clients.closeAll();
  });

  afterAll(async () => {
    await hermes.stop();
  });

  /** The app of one block, with these settings on the fake upstream; `connect` is tracked. */
  const appWith = (env: Record<string, string>) => {
    const app: { t?: TestApp } = {};
    beforeAll(async () => {
      app.t = await startTestApp({ env: { HERMES_URL: hermesUrl, ...env } });
    });
    afterAll(async () => {
      if (!app.t) return;
      await app.t.close();
      await destroyTestApp(app.t);
    });
    return {
      get t(): TestApp {
        if (!app.t) throw new Error('the app is not started yet');
        return app.t;
      },
      async connect(): Promise<ChatClient> {
        return clients.connect(this.t.url, { token: this.t.token });
      },
    };
  };

  describe('before authentication, and with the run caps', () => {
    const app = appWith({
      SOCKET_AUTH_TIMEOUT_MS: '1000',
      MAX_QUEUE_LENGTH: '2',
      MAX_SESSIONLESS_RUNS: '1',
    });
    const connect = () => app.connect();

    it('closes a WebSocket connection whose first frame is over the bound, unparsed', async () => {
      // A valid token, but padded past SOCKET_UNAUTHENTICATED_MAX_BYTES (16 KiB).
      const socket = track(
        open(app.t.url, '/chat-run', { auth: { token: app.t.token, pad: 'x'.repeat(40 * 1024) } }),
      );
      const closed = transportClosed(socket.io);
      expect(await outcome(socket)).toBe('closed');
      await closed;
    });

    it('answers 413 to a polling body over the bound, and drops the connection', async () => {
      const path = '/socket.io/?EIO=4&transport=polling';
      const handshake = await request(app.t.url).get(path).expect(200);
      const sid = (JSON.parse(handshake.text.slice(1)) as { sid: string }).sid;
      // The long poll a client keeps open; it is answered when the connection closes.
      const poll = request(app.t.url)
        .get(`${path}&sid=${sid}`)
        .then((response) => response.status);
      const connect = `40/chat-run,${JSON.stringify({ token: app.t.token, pad: 'x'.repeat(40 * 1024) })}`;
      await request(app.t.url)
        .post(`${path}&sid=${sid}`)
        .set('Content-Type', 'text/plain')
        .send(connect)
        .expect(413);
      expect(await poll).toBe(200);
      await request(app.t.url).get(`${path}&sid=${sid}`).expect(400);
    });

    it('closes a connection whose handshake nests deeper than MAX_JSON_DEPTH', async () => {
      const socket = track(
        open(app.t.url, '/chat-run', { auth: { token: app.t.token, x: nested(40) } }),
      );
      const closed = transportClosed(socket.io);
      expect(await outcome(socket)).toBe('closed');
      await closed;
    });

    it('refuses the root namespace, with or without a token', async () => {
      for (const auth of [{}, { token: app.t.token }]) {
        const socket = track(open(app.t.url, '/', { auth }));
        expect(await outcome(socket)).toBe('connect_error: Invalid namespace');
      }
    });

    it('closes a connection that has not authenticated within SOCKET_AUTH_TIMEOUT_MS', async () => {
      // socket.io-client closes its transport itself after a refusal; a hostile client need not.
      const silent = await rawConnection(app.t.url);
      const refused = await rawConnection(app.t.url);
      const rootOnly = await rawConnection(app.t.url);
      managers.push(silent.manager, refused.manager, rootOnly.manager);
      const closed = [silent, refused, rootOnly].map(({ manager }) => transportClosed(manager));
      refused.manager.engine.send('0/chat-run,{"token":"wrong-token-0123456789"}');
      rootOnly.manager.engine.send(`0{"token":"${app.t.token}"}`);
      // Socket.IO's own default would keep them 45 s; transportClosed gives up after 5.
      await Promise.all(closed);
      expect(refused.received).toEqual(['4/chat-run,{"message":"Authentication failed"}']);
      expect(rootOnly.received).toEqual(['4{"message":"Invalid namespace"}']);
      expect(silent.received).toEqual([]);
    });

    it.each([
      ['over WebSocket', ['websocket']],
      ['over polling', ['polling']],
      ['after an upgrade from polling', ['polling', 'websocket']],
    ])('lets an authenticated socket send a large input %s', async (_label, transports) => {
      const socket = track(
        open(app.t.url, '/chat-run', { transports, auth: { token: app.t.token } }),
      );
      expect(await outcome(socket)).toBe('connect');
      if (transports.length > 1 && socket.io.engine.transport.name !== 'websocket') {
        await new Promise((resolve) => socket.io.engine.once('upgrade', resolve));
      }
      // Over MAX_INPUT_BYTES (512 KiB): answered, not disconnected.
      const answer: unknown = await socket
        .timeout(10000)
        .emitWithAck('run', { session_id: 'big', input: 'y'.repeat(600 * 1024) });
      expect(answer).toMatchObject({ ok: false, error: { code: 'input_too_large' } });
      expect(socket.connected).toBe(true);
    });

    it('closes an authenticated socket that sends a message nested deeper than the limit', async () => {
      const client = await connect();
      const closed = transportClosed(client.socket.io);
      client.socket.emit('run', { input: nested(40) }, () => undefined);
      await closed;
      // Nothing else noticed: a new connection works.
      const other = await connect();
      await expect(other.request('abort', { session_id: 'none' })).resolves.toMatchObject({
        ok: true,
      });
    });

    it('refuses a run over MAX_QUEUE_LENGTH with queue_full, before storing it', async () => {
      const client = await connect();
      const run = (queue_id: string, input = 'next') =>
        client.request('run', { session_id: 'capped', queue_id, input });
      expect(await run('q1', 'long [[deltas:400,interval:20]]')).toMatchObject({
        status: 'started',
      });
      expect(await run('q2')).toMatchObject({ status: 'queued', queue_length: 1 });
      expect(await run('q3')).toMatchObject({ status: 'queued', queue_length: 2 });
      expect(await run('q4')).toMatchObject({ ok: false, error: { code: 'queue_full' } });
      // A resend of a run already queued is still recognised.
      expect(await run('q3')).toMatchObject({ ok: true, status: 'duplicate' });
      const resumed = await client.request('resume', { session_id: 'capped' });
      expect(resumed).toMatchObject({ ok: true });
      const state = await client.waitFor('resumed');
      expect((state.queue as { queue_id: string }[]).map((item) => item.queue_id)).toEqual([
        'q2',
        'q3',
      ]);
      await client.request('abort', { session_id: 'capped' });
    });

    it('refuses a session-less run over MAX_SESSIONLESS_RUNS until one ends', async () => {
      const first = await connect();
      const second = await connect();
      const run = (client: ChatClient, input: string) => client.request('run', { input });
      expect(await run(first, 'a [[deltas:20,interval:20]]')).toMatchObject({
        status: 'started',
      });
      expect(await run(second, 'b')).toMatchObject({
        ok: false,
        error: { code: 'too_many_runs' },
      });
      await first.waitFor('run.completed');
      expect(await run(second, 'c')).toMatchObject({ ok: true, status: 'started' });
      await second.waitFor('run.completed');
    });
  });

  describe('rate limit', () => {
    const app = appWith({
      SOCKET_EVENT_BURST: '5',
      // One new event every 100 s: none is earned during a test.
      SOCKET_EVENTS_PER_SECOND: '0.01',
      SOCKET_FLOOD_DISCONNECT: '10',
    });
    const connect = () => app.connect();

    it('answers events over the burst with rate_limited, through the ack or request.error', async () => {
      const client = await connect();
      const answers = await Promise.all(
        Array.from({ length: 7 }, () => client.request('abort', { session_id: 'calm' })),
      );
      expect(answers.slice(0, 5)).toEqual(
        Array(5).fill({ ok: true, session_id: 'calm', aborting: false }),
      );
      expect(answers.slice(5)).toEqual(
        Array(2).fill({ ok: false, error: { code: 'rate_limited', message: expect.any(String) } }),
      );
      client.socket.emit('resume', { session_id: 'calm' });
      expect(await client.waitFor('request.error')).toMatchObject({
        request: 'resume',
        code: 'rate_limited',
        session_id: 'calm',
      });
      expect(client.socket.connected).toBe(true);
      // Another socket has its own budget.
      const other = await connect();
      await expect(other.request('abort', { session_id: 'calm' })).resolves.toMatchObject({
        ok: true,
      });
    });

    it('disconnects a socket that keeps flooding', async () => {
      const client = await connect();
      const disconnected = new Promise((resolve) => client.socket.once('disconnect', resolve));
      for (let i = 0; i < 200; i++) client.socket.emit('abort', { session_id: 'flood' });
      expect(await disconnected).toBe('io server disconnect');
      // Burst + the flood allowance answered, the rest never reached a handler.
      const refused = client.events.filter((event) => event.event === 'request.error');
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.length).toBeLessThan(200 - 5);
      expect(refused.every((event) => event.code === 'rate_limited')).toBe(true);
      // Operators see it.
      const metrics = await request(app.t.url).get('/metrics').set(app.t.auth).expect(200);
      expect(metrics.text).toMatch(
        /^hermes_gateway_socket_disconnects_total\{reason="flood"\} 1$/m,
      );
      const limited = /^hermes_gateway_socket_events_rate_limited_total (\d+)$/m.exec(metrics.text);
      expect(Number(limited?.[1])).toBeGreaterThanOrEqual(refused.length);
    });
  });

  describe('a reader that stops reading', () => {
    const app = appWith({ SOCKET_MAX_BUFFERED_BYTES: '65536', SOCKET_SEND_STALL_MS: '200' });
    let proxy: StallingProxy;
    let proxyUrl: string;

    beforeAll(async () => {
      ({ proxy, url: proxyUrl } = await StallingProxy.start(app.t.url));
    });

    afterAll(async () => {
      await proxy.stop();
    });

    it('is disconnected once its backlog stops shrinking, and its run is stopped', async () => {
      const socket = track(open(proxyUrl, '/chat-run', { auth: { token: app.t.token } }));
      expect(await outcome(socket)).toBe('connect');
      // A session-less run (it lives as long as its socket): up to 40 MB of deltas, far more
      // than the OS buffers between the app and the proxy can hold.
      const input = `stream [[deltas:5000,interval:1,text:${'z'.repeat(8000)}]]`;
      const ack: unknown = await socket.timeout(5000).emitWithAck('run', { input });
      expect(ack).toMatchObject({ ok: true, status: 'started' });
      const ours = () => hermes.listRuns().find((created) => created.body.input === input);
      await hermes.waitFor(() => ours() !== undefined);
      const run = ours()!;
      proxy.stall();

      // The app gives up on the socket, and so stops the run upstream before its end.
      await hermes.waitForRequests(`/v1/runs/${run.id}/stop`, 'POST', 1, 20000);
      expect(run.deltasEmitted).toBeLessThan(5000);
      const metrics = await request(app.t.url).get('/metrics').set(app.t.auth).expect(200);
      expect(metrics.text).toMatch(
        /^hermes_gateway_socket_disconnects_total\{reason="slow_reader"\} 1$/m,
      );
    });
  });
});
