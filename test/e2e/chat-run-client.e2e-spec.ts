import {
  ChatRunClient,
  ChatRunError,
  MemorySeqStore,
  type ChatRunClientOptions,
  type ServerEvents,
  type WireEvent,
} from '@hermes-chat-gateway/client';
import type { FakeHermesServer } from '../fake-hermes';
import { startWithFakeHermes, type FakeUpstreamApp } from './support/fake-upstream-app';
import type { TestApp } from './support/test-app';

type Delivered = WireEvent<Record<string, unknown>> & { name: string };

/** What the application hears (after the client's duplicate check), and what the socket got. */
function record(client: ChatRunClient) {
  const delivered: Delivered[] = [];
  const raw: Delivered[] = [];
  const snapshots: ServerEvents['resumed'][] = [];
  client.onAny((name, payload) => delivered.push({ ...payload, name }));
  client.onSnapshot((snapshot) => snapshots.push(snapshot));
  client.socket.onAny((name: string, payload: Delivered) => raw.push({ ...payload, name }));
  return { delivered, raw, snapshots };
}

const text = (events: readonly Delivered[], sessionId: string): string =>
  events
    .filter((e) => e.name === 'message.delta' && e.session_id === sessionId)
    .map((e) => String(e.delta))
    .join('');

const seqsOf = (events: readonly Delivered[], sessionId: string): number[] =>
  events.filter((e) => e.session_id === sessionId && e.name !== 'resumed').map((e) => e.seq!);

const reply = (count: number, prefix: string): string =>
  Array.from({ length: count }, (_, i) => `${prefix}${i} `).join('');

describe('ChatRunClient against the gateway (e2e)', () => {
  let started: FakeUpstreamApp;
  let hermes: FakeHermesServer;
  let t: TestApp;
  const clients: ChatRunClient[] = [];

  const open = async (options: Partial<ChatRunClientOptions> = {}) => {
    const client = new ChatRunClient({
      url: t.url,
      token: t.token,
      ...options,
      socket: { reconnectionDelay: 50, reconnectionDelayMax: 100, ...options.socket },
    });
    clients.push(client);
    const log = record(client);
    await client.connect();
    return { client, ...log };
  };

  /** Resolves with the first event of that name the application hears for the session. */
  const next = <K extends keyof ServerEvents>(
    client: ChatRunClient,
    event: K,
    sessionId: string,
  ): Promise<ServerEvents[K]> =>
    new Promise((resolve) => {
      const off = client.on(event, (payload) => {
        if (payload.session_id !== sessionId) return;
        off();
        resolve(payload);
      });
    });

  beforeAll(async () => {
    started = await startWithFakeHermes({}, { keepaliveMs: 200 });
    ({ hermes, app: t } = started);
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(() => started.stop());

  it('rejects the connection with the server reason for a wrong token', async () => {
    const client = new ChatRunClient({ url: t.url, token: 'not-the-token' });
    clients.push(client);
    await expect(client.connect()).rejects.toThrow('Authentication failed');
  });

  it('opens a new chat from its snapshot, runs, and tracks the last seq', async () => {
    const { client, delivered, snapshots } = await open();
    const opened = await client.resume('client-plain');
    expect(opened).toMatchObject({ seq: 0, replayed: null });
    expect(opened.snapshot).toMatchObject({ session_id: 'client-plain', messages: [], seq: 0 });
    expect(snapshots).toEqual([opened.snapshot]);

    hermes.setNextScenario({ deltas: 4, deltaText: 'p{i} ' });
    const completed = next(client, 'run.completed', 'client-plain');
    const ack = await client.run('hello', { sessionId: 'client-plain' });
    expect(ack).toMatchObject({ ok: true, status: 'started', session_id: 'client-plain' });
    expect(ack.queue_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await completed).toMatchObject({ output: reply(4, 'p'), queue_remaining: 0 });

    expect(text(delivered, 'client-plain')).toBe(reply(4, 'p'));
    const seqs = seqsOf(delivered, 'client-plain');
    expect(seqs[0]).toBe(1);
    seqs.forEach((seq, i) => expect(seq).toBe(i + 1));
    expect(client.lastSeq('client-plain')).toBe(seqs[seqs.length - 1]);
  });

  it('rejects a refused request with its code', async () => {
    const { client } = await open();
    const refused = client.run('   ', { sessionId: 'client-refused' });
    await expect(refused).rejects.toBeInstanceOf(ChatRunError);
    await expect(refused).rejects.toMatchObject({ code: 'invalid_payload' });
  });

  it('resumes after a dropped connection and hands over every event once', async () => {
    const { client, delivered, raw, snapshots } = await open();
    hermes.setNextScenario({ deltas: 30, intervalMs: 20, deltaText: 'd{i} ' });
    const completed = next(client, 'run.completed', 'client-drop');
    await client.run('go', { sessionId: 'client-drop' });
    await next(client, 'message.delta', 'client-drop');
    const upstream = hermes.lastRun!;
    const seenBefore = upstream.deltasEmitted;

    // The network drops; socket.io-client reconnects by itself.
    client.socket.io.engine.close();
    await hermes.waitFor(() => upstream.deltasEmitted >= seenBefore + 5);
    await completed;

    expect(text(delivered, 'client-drop')).toBe(reply(30, 'd'));
    const seqs = seqsOf(delivered, 'client-drop');
    seqs.forEach((seq, i) => i > 0 && expect(seq).toBe(seqs[i - 1] + 1));
    const resumes = raw.filter((e) => e.name === 'resumed' && e.session_id === 'client-drop');
    expect(resumes).toHaveLength(1);
    expect(resumes[0].replayed).toBe(true);
    expect(snapshots).toHaveLength(0);
  });

  it('drops events the server sends again', async () => {
    const { client, delivered, raw } = await open();
    hermes.setNextScenario({ deltas: 5, deltaText: 'a{i} ' });
    const completed = next(client, 'run.completed', 'client-dup');
    await client.run('go', { sessionId: 'client-dup' });
    await completed;
    const heard = delivered.length;

    // Ask, behind the client's back, for everything again: the server replays it all.
    const replayed = await client.socket
      .timeout(5000)
      .emitWithAck('resume', { session_id: 'client-dup', after_seq: 0 });
    expect(replayed).toMatchObject({ ok: true, replayed: true });
    const again = () =>
      raw.filter((e) => e.name === 'run.completed' && e.session_id === 'client-dup').length;
    await hermes.waitFor(() => again() === 2, 5000, 'the replayed run.completed');

    const after = delivered.slice(heard);
    expect(after.map((e) => e.name)).toEqual(['resumed']);
    expect(text(delivered, 'client-dup')).toBe(reply(5, 'a'));
  });

  it('continues where a previous client stopped when given its cursors (a page reload)', async () => {
    const store = new MemorySeqStore();
    const first = await open({ seqStore: store });
    await first.client.resume('client-reload');
    hermes.setNextScenario({ deltas: 20, intervalMs: 20, deltaText: 'r{i} ' });
    await first.client.run('go', { sessionId: 'client-reload' });
    await hermes.waitFor(() => text(first.delivered, 'client-reload').includes('r3 '));
    first.client.close();
    const stoppedAt = store.get('client-reload')!;
    const upstream = hermes.lastRun!;
    await hermes.waitFor(() => upstream.deltasEmitted >= 10);

    const second = await open({ seqStore: store });
    const completed = next(second.client, 'run.completed', 'client-reload');
    const resumed = await second.client.resume('client-reload');
    expect(resumed.replayed).toBe(true);
    await completed;
    expect(second.snapshots).toHaveLength(0);
    expect(seqsOf(second.delivered, 'client-reload')[0]).toBe(stoppedAt + 1);
    expect(text(first.delivered, 'client-reload') + text(second.delivered, 'client-reload')).toBe(
      reply(20, 'r'),
    );
  });

  it('falls back to the snapshot when the server cannot replay, and goes on from its seq', async () => {
    const writer = await open();
    for (const input of ['one', 'two']) {
      const completed = next(writer.client, 'run.completed', 'client-stale');
      await writer.client.run(input, { sessionId: 'client-stale' });
      await completed;
    }
    // A cursor this server never handed out (e.g. kept from a deleted session of that name).
    const store = new MemorySeqStore();
    store.set('client-stale', 10_000);
    const reader = await open({ seqStore: store });
    const resumed = await reader.client.resume('client-stale');
    expect(resumed.replayed).toBe(false);
    expect(reader.snapshots).toEqual([resumed.snapshot]);
    expect(resumed.snapshot.messages.map((m) => m.content)).toEqual([
      'one',
      reply(5, 'tok'),
      'two',
      reply(5, 'tok'),
    ]);
    expect(reader.client.lastSeq('client-stale')).toBe(resumed.snapshot.seq);

    const completed = next(reader.client, 'run.completed', 'client-stale');
    await writer.client.run('three', { sessionId: 'client-stale' });
    await completed;
    expect(seqsOf(reader.delivered, 'client-stale')[0]).toBe(resumed.snapshot.seq + 1);
    expect(text(reader.delivered, 'client-stale')).toBe(reply(5, 'tok'));
  });

  it('queues, cancels and aborts through typed requests', async () => {
    const { client } = await open();
    hermes.setNextScenario({ deltas: 200, intervalMs: 20 });
    await client.run('long', { sessionId: 'client-queue' });
    const queued = await client.run('later', { sessionId: 'client-queue', queueId: 'q-later' });
    expect(queued).toMatchObject({ status: 'queued', queue_id: 'q-later', queue_length: 1 });
    expect(
      await client.run('later', { sessionId: 'client-queue', queueId: 'q-later' }),
    ).toMatchObject({
      status: 'duplicate',
    });
    expect(await client.cancelQueued('client-queue', 'q-later')).toMatchObject({
      removed: true,
      queue_length: 0,
    });
    const aborted = next(client, 'abort.completed', 'client-queue');
    expect(await client.abort('client-queue')).toMatchObject({ aborting: true });
    expect(await aborted).toMatchObject({ synced: true });
  });
});
