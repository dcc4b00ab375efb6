import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { Manager } from 'socket.io-client';
import request from 'supertest';
import { FakeHermesServer } from '../fake-hermes';
import { OpenClients, Received, streamedText } from './support/chat-client';
import { destroyTestApp, startTestApp, TestApp } from './support/test-app';

/**
 * Random payloads for every socket event and REST body, thousands of them, while another
 * session streams: the server never crashes, answers every acknowledged request (with a coded
 * refusal, never `internal_error`), and the streaming session loses nothing.
 */

const SEED = Number(process.env.FUZZ_SEED ?? Date.now());
const SOCKET_RUNS = 300; // per event, five events
const REST_RUNS = 200; // per route, five routes

/** Ids the fuzz shares, so that requests meet the same sessions now and then. */
const sessionIds = fc.constantFrom('fz-a', 'fz-b', 'fz-c');
const someId = fc.oneof(
  { weight: 4, arbitrary: sessionIds },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.uuid() },
);
const anyValue = fc.anything({ maxDepth: 4, withNullPrototype: true, withObjectString: true });
/** Mostly a plausible value, sometimes anything at all. */
const maybe = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 5, arbitrary: arb }, { weight: 1, arbitrary: anyValue });

const contentBlock = fc.oneof(
  fc.record({ type: fc.constant('text'), text: maybe(fc.string()) }),
  fc.record({
    type: fc.constantFrom('image', 'file', 'other'),
    name: maybe(fc.string()),
    path: maybe(fc.string()),
    media_type: maybe(fc.string()),
  }),
  anyValue,
);

/** Mostly a payload shaped like the request, sometimes anything at all. */
const shaped = (arb: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: anyValue });

/** Payloads that look like each request, with any field wrong, missing or extra. */
const payloads: Record<string, fc.Arbitrary<unknown>> = {
  run: shaped(
    fc.record(
      {
        input: fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.array(contentBlock, { maxLength: 4 }),
          anyValue,
        ),
        session_id: maybe(sessionIds),
        queue_id: maybe(someId),
        model: maybe(fc.string()),
        instructions: maybe(fc.string()),
      },
      { requiredKeys: ['input'] },
    ),
  ),
  cancel_queued_run: shaped(
    fc.record({ session_id: maybe(someId), queue_id: maybe(someId) }, { requiredKeys: [] }),
  ),
  resume: shaped(
    fc.record(
      {
        session_id: maybe(someId),
        after_seq: maybe(fc.oneof(fc.nat(), fc.integer(), fc.double())),
        limit: maybe(fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer())),
      },
      { requiredKeys: [] },
    ),
  ),
  abort: shaped(fc.record({ session_id: maybe(someId) }, { requiredKeys: [] })),
  'approval.respond': shaped(
    fc.record(
      {
        session_id: maybe(someId),
        choice: maybe(fc.constantFrom('once', 'session', 'always', 'deny', 'approve')),
        request_id: maybe(fc.string()),
      },
      { requiredKeys: [] },
    ),
  ),
};

/** Extra arguments before the ack: a client may send several, or none. */
const argumentLists = (payload: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 8, arbitrary: payload.map((value) => [value]) },
    { weight: 1, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: fc.tuple(payload, anyValue) },
  );

/** Bodies for the REST routes that take one: JSON of any shape, or not JSON at all. */
const bodies = fc.oneof(
  fc
    .record(
      {
        id: maybe(someId),
        title: maybe(fc.string()),
        workspace: maybe(fc.string()),
        profile: maybe(fc.string()),
        model: maybe(fc.string()),
        ids: maybe(fc.array(someId, { maxLength: 5 })),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc.jsonValue({ maxDepth: 6 }).map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 300 }),
  fc
    .integer({ min: 1, max: 3000 })
    .map((depth) => `{"title":${'['.repeat(depth)}${']'.repeat(depth)}}`),
);

type AckReply = { ok: true } | { ok: false; error: { code: string; message: string } };

function expectAnswer(reply: unknown): void {
  expect(reply).toEqual(expect.objectContaining({ ok: expect.any(Boolean) }));
  const answer = reply as AckReply;
  if (answer.ok) return;
  expect(answer.error).toEqual({
    code: expect.stringMatching(/^[a-z_]+$/),
    message: expect.any(String),
  });
  // A client's mistake is a coded refusal; internal_error would be the server's own failure.
  expect(answer.error.code).not.toBe('internal_error');
}

describe('Fuzz: random socket events and REST bodies (e2e)', () => {
  let hermes: FakeHermesServer;
  let t: TestApp;
  const clients = new OpenClients();

  const connect = async () => {
    return clients.connect(t.url, { token: t.token });
  };

  beforeAll(async () => {
    hermes = new FakeHermesServer({ keepaliveMs: 200 });
    const hermesUrl = await hermes.start();
    t = await startTestApp({
      env: {
        HERMES_URL: hermesUrl,
        // The fuzz sends as fast as it can; the rate limit has its own tests.
        SOCKET_EVENTS_PER_SECOND: '100000',
        SOCKET_EVENT_BURST: '100000',
        ABORT_GRACE_MS: '200',
      },
    });
  });

  afterAll(async () => {
    clients.closeAll();
    await t.close();
    await destroyTestApp(t);
    await hermes.stop();
  });

  it(`never crashes, answers every request, and keeps a streaming session whole (seed ${SEED})`, async () => {
    const listener = await connect();
    const streamId = `stream-${randomUUID()}`;
    const deltas = 300;
    const started = await listener.request('run', {
      session_id: streamId,
      input: `stream [[deltas:${deltas},interval:15]]`,
    });
    expect(started).toMatchObject({ ok: true, status: 'started' });

    const fuzzer = await connect();
    for (const [event, payload] of Object.entries(payloads)) {
      await fc.assert(
        fc.asyncProperty(argumentLists(payload), async (args) => {
          expectAnswer(await fuzzer.socket.timeout(10000).emitWithAck(event, ...args));
        }),
        { numRuns: SOCKET_RUNS, seed: SEED },
      );
    }

    // Events nobody handles, and requests without an ack: answered by nothing, harmful to none.
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom(...Object.keys(payloads))),
        anyValue,
        async (event, payload) => {
          fuzzer.socket.emit(event, payload);
          await Promise.resolve();
        },
      ),
      { numRuns: 300, seed: SEED },
    );

    // Raw packets below Socket.IO's encoder: a malformed one may cost its connection only.
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 100 }),
          fc.jsonValue({ maxDepth: 3 }).map((value) => `42/chat-run,${JSON.stringify(value)}`),
          fc.string({ maxLength: 50 }).map((text) => `4${text}`),
        ),
        async (packet) => {
          const manager = new Manager(t.url, { transports: ['websocket'], reconnection: false });
          const socket = manager.socket('/chat-run', { auth: { token: t.token } });
          await new Promise<void>((resolve, reject) => {
            socket.once('connect', resolve);
            socket.once('connect_error', reject);
          });
          manager.engine.send(packet);
          socket.disconnect();
        },
      ),
      { numRuns: 150, seed: SEED },
    );

    // REST bodies on every route that takes one, with and without the token.
    const routes: [string, string][] = [
      ['post', '/api/sessions'],
      ['patch', '/api/sessions/fz-a'],
      ['post', '/api/hermes/sessions/batch-delete'],
      ['post', '/api/hermes/sessions/fz-b/rename'],
      ['post', '/api/hermes/sessions/fz-c/workspace'],
    ];
    for (const [method, path] of routes) {
      await fc.assert(
        fc.asyncProperty(bodies, fc.boolean(), async (body, withToken) => {
          const call = method === 'post' ? request(t.url).post(path) : request(t.url).patch(path);
          const res = await call
            .set(withToken ? t.auth : {})
            .set('Content-Type', 'application/json')
            .send(body);
          expect(res.status).toBeLessThan(500);
          const refusal = res.status >= 400 ? (res.body as { code?: unknown }) : { code: 'none' };
          expect(refusal.code).toEqual(expect.stringMatching(/^[a-z_]+$/));
        }),
        { numRuns: REST_RUNS, seed: SEED },
      );
    }

    // Still serving, and the fuzzing socket was never dropped.
    await request(t.url).get('/api/health').expect(200);
    expect(fuzzer.socket.connected).toBe(true);
    expectAnswer(await fuzzer.request('abort', { session_id: 'fz-a' }));

    // The streaming session lost nothing: every delta, in seq order, and the stored reply.
    const completed = await listener.waitFor(
      'run.completed',
      (event) => event.session_id === streamId,
      60000,
    );
    const events: Received[] = listener.of(streamId);
    const seqs = events.map((event) => event.seq as number);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    const expected = Array.from({ length: deltas }, (_, i) => `tok${i} `).join('');
    expect(streamedText(events)).toBe(expected);
    expect(completed.output).toBe(expected);
    const stored = await request(t.url)
      .get(`/api/sessions/${streamId}/messages`)
      .set(t.auth)
      .expect(200);
    expect((stored.body.messages as { role: string; content: string }[]).at(-1)).toMatchObject({
      role: 'assistant',
      content: expected,
    });
  });
});
