import { createClient } from '@redis/client';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { setTimeout as sleep } from 'node:timers/promises';
import { PEERS_KNOWN_AFTER_MS } from '../../src/chat-run/cluster/room-interest';
import { FakeHermesServer } from '../fake-hermes';
import { ChatClient, OpenClients, Received, streamedText } from './support/chat-client';
import { startServer, stopServer, type ServerProcess } from './support/server-process';
import { POSTGRES_URL } from './support/test-app';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const LEASE_MS = 3000;

/** The room events a client received of a session (`resumed` is a reply, not one of them). */
const roomEvents = (client: ChatClient, sessionId: string): Received[] =>
  client.of(sessionId).filter((event) => event.event !== 'resumed');

/** Seqs strictly increasing, each once. */
function expectInSeqOrder(events: readonly Received[]): void {
  const seqs = events.map((event) => event.seq as number);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
}

/** Everything a client saw of a session from `fromSeq` on: event names with their seqs. */
const trace = (client: ChatClient, sessionId: string, fromSeq = 0): string[] =>
  roomEvents(client, sessionId)
    .filter((event) => (event.seq as number) >= fromSeq)
    .map((event) => `${event.seq}:${event.event}`);

/** The fake upstream's behaviour for one run, written into its input. */
const scripted = (text: string, scenario: Record<string, unknown>): string =>
  `${text} [[${JSON.stringify(scenario)}]]`;

/**
 * Three real instances (child processes) on the machine's PostgreSQL and Redis, one fake Hermes:
 * any client on any instance, each run owned by one instance, nothing lost when one dies.
 */
describe('several instances (e2e, PostgreSQL + Redis, real processes)', () => {
  const token = randomBytes(24).toString('hex');
  const schema = `e2e_cluster_${process.pid}_${randomBytes(3).toString('hex')}`;
  const prefix = `e2e-cluster-${process.pid}-${randomBytes(3).toString('hex')}:`;
  let hermes: FakeHermesServer;
  let dataDir: string;
  let env: Record<string, string>;
  const instances: ServerProcess[] = [];
  let startedAt = 0;
  const clients = new OpenClients();

  const connect = async (instance: ServerProcess) => {
    return clients.connect(instance.url, { token });
  };

  const api = (instance: ServerProcess) => ({
    get: (path: string) =>
      request(instance.url).get(path).set('Authorization', `Bearer ${token}`).expect(200),
  });

  const messagesOf = async (instance: ServerProcess, sessionId: string) =>
    (await api(instance).get(`/api/sessions/${sessionId}/messages`)).body.messages as {
      role: string;
      content: string;
    }[];

  beforeAll(async () => {
    hermes = new FakeHermesServer({ keepaliveMs: 200 });
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-cluster-'));
    env = {
      DATA_DIR: dataDir,
      AUTH_TOKEN: token,
      // `Listening on` is an info line: the helper waits for it.
      LOG_LEVEL: 'info',
      HERMES_URL: await hermes.start(),
      RUN_STATUS_POLL_MS: '100',
      DATABASE_URL: POSTGRES_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      RUN_LEASE_MS: String(LEASE_MS),
    };
    // All three at once, on an empty schema: migrations take turns.
    instances.push(...(await Promise.all([startServer(env), startServer(env), startServer(env)])));
    startedAt = Date.now();
  }, 120_000);

  afterEach(() => {
    clients.closeAll();
    hermes.setDefaultScenario(undefined);
  });

  afterAll(async () => {
    await Promise.all(instances.map((instance) => stopServer(instance)));
    await hermes.stop();
    await rm(dataDir, { recursive: true, force: true });
    const pg = new Client({ connectionString: POSTGRES_URL });
    await pg.connect();
    await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg.end();
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(keys);
    await redis.quit();
  }, 60_000);

  it('reports Redis in the health of every instance', async () => {
    for (const instance of instances) {
      const health = await request(instance.url).get('/api/health').expect(200);
      expect(health.body.info.redis).toMatchObject({ status: 'up' });
    }
  });

  it('sends every event of a session to its clients on every instance, once each, in seq order; one FIFO; duplicates known everywhere', async () => {
    const [a, b, c] = await Promise.all(instances.map(connect));
    // Two clients watch from other instances before the first run (a new chat).
    await b.request('resume', { session_id: 'shared' });
    await c.request('resume', { session_id: 'shared' });
    const fromA = scripted('from A', { deltas: 20, intervalMs: 20, deltaText: 'a{i} ' });
    const fromC = scripted('from C', { deltas: 5, deltaText: 'c{i} ' });
    const first = await a.request('run', { session_id: 'shared', input: fromA, queue_id: 'q-a' });
    const second = await c.request('run', { session_id: 'shared', input: fromC, queue_id: 'q-c' });
    expect(first).toMatchObject({ ok: true, status: 'started' });
    expect(second).toMatchObject({ ok: true, status: 'queued', queue_length: 1 });
    // The same request id sent again through another instance starts nothing.
    expect(
      await b.request('run', { session_id: 'shared', input: 'resent', queue_id: 'q-a' }),
    ).toMatchObject({ ok: true, status: 'duplicate' });

    for (const client of [a, b, c]) {
      await client.waitFor('run.completed', (e) => e.output === 'c0 c1 c2 c3 c4 ', 20_000);
    }
    const reference = trace(a, 'shared');
    expect(reference.length).toBeGreaterThan(25);
    for (const client of [a, b, c]) {
      expectInSeqOrder(roomEvents(client, 'shared'));
      expect(trace(client, 'shared')).toEqual(reference);
      expect(streamedText(client.of('shared'))).toBe(
        Array.from({ length: 20 }, (_, i) => `a${i} `).join('') + 'c0 c1 c2 c3 c4 ',
      );
    }
    expect((await messagesOf(instances[1], 'shared')).map((m) => m.content)).toEqual([
      fromA,
      Array.from({ length: 20 }, (_, i) => `a${i} `).join(''),
      fromC,
      'c0 c1 c2 c3 c4 ',
    ]);
    expect(hermes.listRuns().filter((run) => run.input === 'resent')).toEqual([]);
  }, 60_000);

  it('serves abort, cancel_queued_run and approval.respond from any instance', async () => {
    const [a, b, c] = await Promise.all(instances.map(connect));
    await b.request('resume', { session_id: 'control' });
    await c.request('resume', { session_id: 'control' });
    await a.request('run', {
      session_id: 'control',
      input: scripted('needs approval', { deltas: 10, intervalMs: 30, approval: 2 }),
    });
    await b.request('run', {
      session_id: 'control',
      input: scripted('long one', { deltas: 200, intervalMs: 30, deltaText: 'L{i} ' }),
      queue_id: 'long',
    });
    await c.request('run', { session_id: 'control', input: 'cancel me', queue_id: 'doomed' });

    await c.waitFor('approval.request', (e) => e.session_id === 'control', 10_000);
    expect(
      await b.request('approval.respond', { session_id: 'control', choice: 'once' }),
    ).toMatchObject({ ok: true });
    expect(
      await a.request('cancel_queued_run', { session_id: 'control', queue_id: 'doomed' }),
    ).toMatchObject({ ok: true, removed: true, queue_length: 1 });
    await a.waitFor('run.completed', (e) => e.session_id === 'control', 10_000);

    await c.waitFor('message.delta', (e) => e.session_id === 'control' && e.delta === 'L3 ');
    expect(await c.request('abort', { session_id: 'control' })).toMatchObject({
      ok: true,
      aborting: true,
    });
    for (const client of [a, b, c]) {
      await client.waitFor('abort.completed', (e) => e.session_id === 'control', 10_000);
    }
    expect(hermes.listRuns().filter((run) => run.input === 'cancel me')).toEqual([]);
  }, 60_000);

  it('delays events while Redis drops the connections, and then delivers each once, in order', async () => {
    const [a, b] = await Promise.all(instances.map(connect));
    await b.request('resume', { session_id: 'outage' });
    await a.request('run', {
      session_id: 'outage',
      input: scripted('through an outage', { deltas: 40, intervalMs: 25, deltaText: 'o{i} ' }),
    });
    await b.waitFor('message.delta', (e) => e.session_id === 'outage' && e.delta === 'o5 ');

    // Every connection of this deployment is cut (the adapter's stream reader included).
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const list = await redis.clientList();
    const ours = list
      .filter((client) => client.name === `${prefix}gateway`)
      .map((client) => String(client.id));
    expect(ours.length).toBeGreaterThanOrEqual(3);
    for (const id of ours) await redis.sendCommand(['CLIENT', 'KILL', 'ID', id]);
    await redis.quit();

    for (const client of [a, b]) {
      await client.waitFor('run.completed', (e) => e.session_id === 'outage', 20_000);
      expect(streamedText(client.of('outage'))).toBe(
        Array.from({ length: 40 }, (_, i) => `o${i} `).join(''),
      );
      expectInSeqOrder(roomEvents(client, 'outage'));
    }
    expect(trace(b, 'outage')).toEqual(trace(a, 'outage'));
  }, 60_000);

  it('replays exactly from after_seq on any instance, with no gap or duplicate before the live tail', async () => {
    const [a, , c] = await Promise.all(instances.map(connect));
    await a.request('run', {
      session_id: 'replayed',
      input: scripted('go', { deltas: 60, intervalMs: 25, deltaText: 'r{i} ' }),
    });
    const cursor = await a.waitFor('message.delta', (e) => e.delta === 'r10 ');

    const ack = await c.request('resume', {
      session_id: 'replayed',
      after_seq: cursor.seq,
    });
    expect(ack).toMatchObject({ ok: true, replayed: true });
    await c.waitFor('run.completed', (e) => e.session_id === 'replayed', 20_000);
    await a.waitFor('run.completed', (e) => e.session_id === 'replayed', 20_000);

    const after = (cursor.seq as number) + 1;
    expect(trace(c, 'replayed', after)).toEqual(trace(a, 'replayed', after));
    expectInSeqOrder(roomEvents(c, 'replayed'));
  }, 60_000);

  it('keeps the events of a session watched only on its holder off Redis, and sends them on from a resume elsewhere with no gap', async () => {
    // The instances know of each other from their heartbeats: sessions taken before stay shared.
    await sleep(Math.max(0, startedAt + PEERS_KNOWN_AFTER_MS + 1000 - Date.now()));
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      const stream = `${prefix}socket.io`;
      const lastEntry = async (): Promise<string> =>
        (await redis.xRevRange(stream, '+', '-', { COUNT: 1 }))[0]?.id ?? '0-0';
      /** Entries published since `after` that carry the session's room. */
      const publishedSince = async (after: string): Promise<number> =>
        (await redis.xRange(stream, `(${after}`, '+')).filter((entry) =>
          JSON.stringify(entry.message).includes('session:quiet'),
        ).length;
      const [a, , c] = await Promise.all(instances.map(connect));
      const run = (input: string) => a.request('run', { session_id: 'quiet', input });

      // The first run takes the session, and the question to the other instances goes out.
      await run(scripted('one', { deltas: 3, deltaText: 'o{i} ' }));
      await a.waitFor('run.completed', (e) => e.output === 'o0 o1 o2 ', 20_000);
      const before = await lastEntry();
      await run(scripted('two', { deltas: 30, intervalMs: 20, deltaText: 't{i} ' }));
      const cursor = await a.waitFor('message.delta', (e) => e.delta === 't10 ');
      expect(await publishedSince(before)).toBe(0);

      // A client on another instance comes in mid-run: replay, then the live tail through Redis.
      const ack = await c.request('resume', { session_id: 'quiet', after_seq: cursor.seq });
      expect(ack).toMatchObject({ ok: true, replayed: true });
      await a.waitFor(
        'run.completed',
        (e) => e.session_id === 'quiet' && (e.seq as number) > (cursor.seq as number),
        20_000,
      );
      await c.waitFor('run.completed', (e) => e.session_id === 'quiet', 20_000);
      const after = (cursor.seq as number) + 1;
      expect(trace(c, 'quiet', after)).toEqual(trace(a, 'quiet', after));
      expect(trace(c, 'quiet', after).length).toBeGreaterThan(15);
      expectInSeqOrder(roomEvents(c, 'quiet'));
      expect(await publishedSince(before)).toBeGreaterThan(0);
    } finally {
      await redis.quit();
    }
  }, 60_000);

  it('takes over the runs of an instance that is killed: terminal event, whole reply, queue once', async () => {
    const owner = instances[0];
    const [, watcherA, watcherB] = await Promise.all(instances.map(connect));
    const client = await connect(owner);
    const long = scripted('long', { deltas: 40, intervalMs: 50, deltaText: 'k{i} ' });
    const next = scripted('next', { deltas: 3, deltaText: 'after{i} ' });
    // The owner is the instance the session's first request reached.
    await client.request('resume', { session_id: 'orphan' });
    await watcherA.request('resume', { session_id: 'orphan' });
    await watcherB.request('resume', { session_id: 'orphan' });
    await client.request('run', { session_id: 'orphan', input: long, queue_id: 'long' });
    await client.request('run', { session_id: 'orphan', input: next, queue_id: 'next' });
    await watcherA.waitFor('message.delta', (e) => e.delta === 'k5 ');

    const killedAt = Date.now();
    owner.child.kill('SIGKILL');
    await owner.exited;
    instances.splice(0, 1);

    for (const watcher of [watcherA, watcherB]) {
      const completed = await watcher.waitFor(
        'run.completed',
        (e) => e.session_id === 'orphan' && String(e.output).startsWith('k0 '),
        LEASE_MS + 15_000,
      );
      expect(completed.output).toBe(Array.from({ length: 40 }, (_, i) => `k${i} `).join(''));
    }
    expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 2_000 + 40 * 50 + 5_000);
    for (const watcher of [watcherA, watcherB]) {
      await watcher.waitFor('run.completed', (e) => e.output === 'after0 after1 after2 ', 20_000);
    }
    expect((await messagesOf(instances[0], 'orphan')).map((m) => m.content)).toEqual([
      long,
      Array.from({ length: 40 }, (_, i) => `k${i} `).join(''),
      next,
      'after0 after1 after2 ',
    ]);
    // Each run went upstream exactly once.
    expect(hermes.listRuns().filter((run) => run.input === next)).toHaveLength(1);
    expect(hermes.listRuns().filter((run) => run.input === long)).toHaveLength(1);
  }, 90_000);

  it('refuses REDIS_URL with SQLite at startup, with one clear line', async () => {
    const started = startServer({
      ...env,
      DATABASE_URL: '',
      DATABASE_SCHEMA: '',
      DATA_DIR: join(dataDir, 'sqlite'),
    });
    await expect(started).rejects.toThrow(
      /server exited with 1:\nInvalid configuration: REDIS_URL \(several instances\) needs PostgreSQL/,
    );
  }, 60_000);
});
