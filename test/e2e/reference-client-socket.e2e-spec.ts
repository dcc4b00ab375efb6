import request from 'supertest';
import { FakeHermesServer } from '../fake-hermes';
import { OpenClients, Received, streamedText } from './support/chat-client';
import { destroyTestApp, startTestApp, TestApp } from './support/test-app';

/**
 * What the hermes-studio web client does over `/chat-run` and needs answered as its own server
 * did: a new chat is resumed before its first run, `messageTotal` never undercounts a streaming
 * reply, and the event fields it reads are there.
 */
describe('/chat-run for the reference web client (e2e)', () => {
  let hermes: FakeHermesServer;
  let t: TestApp;
  const clients = new OpenClients();

  const connect = async () => {
    return clients.connect(t.url, { token: t.token });
  };

  const sessionRow = (id: string) => request(t.url).get(`/api/sessions/${id}`).set(t.auth);

  beforeAll(async () => {
    hermes = new FakeHermesServer({ keepaliveMs: 200 });
    t = await startTestApp({ env: { HERMES_URL: await hermes.start(), ABORT_GRACE_MS: '1500' } });
  });

  afterEach(() => {
    clients.closeAll();
  });

  afterAll(async () => {
    await t.close();
    await destroyTestApp(t);
    await hermes.stop();
  });

  describe('resume of a session the server has never seen', () => {
    const emptyResumed = {
      event: 'resumed',
      messages: [],
      isWorking: false,
      isAborting: false,
      events: [],
      inputTokens: 0,
      outputTokens: 0,
      queueLength: 0,
      queue: [],
      messageTotal: 0,
      messageLoadedCount: 0,
      hasMoreBefore: false,
      seq: 0,
    };

    it('is a new chat: an empty resumed, an ok ack, and nothing stored', async () => {
      const client = await connect();
      const ack = await client.request('resume', { session_id: 'new-chat' });
      expect(ack).toEqual({ ok: true, session_id: 'new-chat', seq: 0, replayed: null });
      const resumed = await client.waitFor('resumed');
      expect(resumed).toEqual({ ...emptyResumed, session_id: 'new-chat' });
      expect(client.events.map((e) => e.event)).toEqual(['resumed']);
      await sessionRow('new-chat').expect(404);
      const list = await request(t.url).get('/api/sessions').set(t.auth).expect(200);
      expect(list.body.items.map((s: { id: string }) => s.id)).not.toContain('new-chat');
    });

    it('answers resumed even without an ack callback (the reference client sends none)', async () => {
      const client = await connect();
      client.socket.emit('resume', { session_id: 'new-chat-no-ack' });
      const resumed = await client.waitFor('resumed');
      expect(resumed).toEqual({ ...emptyResumed, session_id: 'new-chat-no-ack' });
      expect(client.events.filter((e) => e.event === 'request.error')).toEqual([]);
    });

    it('with after_seq 0 replays nothing and says the replay is complete', async () => {
      const client = await connect();
      const ack = await client.request('resume', { session_id: 'new-chat-cursor', after_seq: 0 });
      expect(ack).toEqual({ ok: true, session_id: 'new-chat-cursor', seq: 0, replayed: true });
      expect(await client.waitFor('resumed')).toEqual({
        ...emptyResumed,
        session_id: 'new-chat-cursor',
        replayed: true,
      });
    });

    it('with a cursor it never handed out says the replay is not complete', async () => {
      const client = await connect();
      const ack = await client.request('resume', { session_id: 'new-chat-foreign', after_seq: 7 });
      expect(ack).toEqual({ ok: true, session_id: 'new-chat-foreign', seq: 0, replayed: false });
      expect(await client.waitFor('resumed')).toMatchObject({ seq: 0, replayed: false });
      await sessionRow('new-chat-foreign').expect(404);
    });

    it('streams the first run of that chat to the socket that resumed it', async () => {
      const client = await connect();
      await client.request('resume', { session_id: 'new-chat-run' });
      hermes.setNextScenario({ deltas: 3, deltaText: 'n{i} ' });
      const ack = await client.request('run', { session_id: 'new-chat-run', input: 'first' });
      expect(ack).toMatchObject({ ok: true, status: 'started' });
      await client.waitFor('run.completed', (e) => e.session_id === 'new-chat-run');
      expect(streamedText(client.of('new-chat-run'))).toBe('n0 n1 n2 ');
      // Each room event exactly once: the socket joined the room once, on resume.
      const seqs = client
        .of('new-chat-run')
        .filter((e) => e.event !== 'resumed')
        .map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, index) => index + 1));
      const session = await sessionRow('new-chat-run').expect(200);
      expect(session.body).toMatchObject({ message_count: 2, title: 'first' });
    });

    it('streams that first run to the resumed socket when another socket sends it', async () => {
      const watcher = await connect();
      await watcher.request('resume', { session_id: 'new-chat-other' });
      const sender = await connect();
      hermes.setNextScenario({ deltas: 2, deltaText: 'o{i}' });
      await sender.request('run', { session_id: 'new-chat-other', input: 'from elsewhere' });
      await watcher.waitFor('run.completed', (e) => e.session_id === 'new-chat-other');
      expect(streamedText(watcher.of('new-chat-other'))).toBe('o0o1');
    });
  });

  describe('messageTotal while a run streams', () => {
    /** Resumes from a fresh socket and returns its `resumed`. */
    const resumeNow = async (sessionId: string, limit?: number): Promise<Received> => {
      const client = await connect();
      await client.request('resume', { session_id: sessionId, ...(limit ? { limit } : {}) });
      return client.waitFor('resumed');
    };

    it('counts the reply in progress, before and after its text was first stored', async () => {
      const runner = await connect();
      hermes.setNextScenario({ deltas: 30, intervalMs: 100, deltaText: 't{i} ' });
      await runner.request('run', { session_id: 'total', input: 'count me' });
      // Well inside the first second: the reply is not stored yet when resume comes in.
      await runner.waitFor('message.delta', (e) => e.session_id === 'total');
      const early = await resumeNow('total');
      expect(early).toMatchObject({ isWorking: true, hasMoreBefore: false });
      expect((early.messages as { role: string }[]).map((m) => m.role)).toEqual([
        'user',
        'assistant',
      ]);
      expect(early.messageTotal).toBe(2);

      const narrow = await resumeNow('total', 1);
      expect(narrow).toMatchObject({ hasMoreBefore: true, messageTotal: 2, messageLoadedCount: 1 });
      expect(narrow.messages).toHaveLength(1);

      // After the periodic write stored the partial reply.
      await runner.waitFor('message.delta', (e) => e.delta === 't14 ', 10000);
      const later = await resumeNow('total');
      expect(later).toMatchObject({ isWorking: true, messageTotal: 2 });
      expect(later.messages).toHaveLength(2);
      await runner.waitFor('run.completed', (e) => e.session_id === 'total', 10000);
    });

    it('counts every draft of a run with tools, and agrees with the listing afterwards', async () => {
      const runner = await connect();
      hermes.setNextScenario({
        deltas: 12,
        intervalMs: 80,
        toolsAfterDeltas: 1,
        tools: [
          { name: 'terminal', preview: 'ls', output: 'a b' },
          { name: 'read_file', preview: 'x', output: 'y' },
        ],
      });
      await runner.request('run', { session_id: 'total-tools', input: 'tools please' });
      await runner.waitFor('tool.completed', (e) => e.session_id === 'total-tools');
      await runner.waitFor('message.delta', (e) => e.session_id === 'total-tools');
      const mid = await resumeNow('total-tools');
      expect(mid.isWorking).toBe(true);
      expect(mid.hasMoreBefore).toBe(false);
      expect(mid.messageTotal).toBe((mid.messages as unknown[]).length);
      // The stored messages of the page come first; drafts the page lacks (if any) follow.
      const midMessages = mid.messages as { id: number }[];
      const loaded = mid.messageLoadedCount as number;
      expect(loaded).toBeGreaterThan(0);
      expect(loaded).toBeLessThanOrEqual(midMessages.length);
      expect(midMessages.slice(0, loaded).every((m) => m.id > 0)).toBe(true);

      await runner.waitFor('run.completed', (e) => e.session_id === 'total-tools', 10000);
      const after = await resumeNow('total-tools');
      const listing = await request(t.url)
        .get('/api/sessions/total-tools/messages')
        .set(t.auth)
        .expect(200);
      expect(after.messageTotal).toBe(listing.body.messages.length);
      expect(after.messageTotal).toBeGreaterThanOrEqual((mid.messages as unknown[]).length);
    });
  });

  describe('event fields', () => {
    it('run.failed carries a timestamp, whether the gateway or the upstream failed the run', async () => {
      const client = await connect();
      const before = Date.now() / 1000;
      hermes.setNextScenario(
        { createStatus: 500 },
        { deltas: 2, fail: { afterDeltas: 1, error: 'it broke' } },
      );
      await client.request('run', { session_id: 'failed-at', input: 'x' });
      await client.request('run', { session_id: 'failed-at', input: 'y' });
      await client.waitFor('run.failed', (e) => e.queue_remaining === 0);
      const failures = client.of('failed-at', 'run.failed');
      expect(failures.map((e) => e.error)).toEqual([
        expect.stringMatching(/^Upstream 500/),
        'it broke',
      ]);
      for (const failed of failures) {
        expect(failed.timestamp).toEqual(expect.any(Number));
        expect(failed.timestamp as number).toBeGreaterThanOrEqual(before - 1);
        expect(failed.timestamp as number).toBeLessThanOrEqual(Date.now() / 1000 + 1);
      }
    });

    it('resumed.events name their event inside the payload too', async () => {
      const runner = await connect();
      hermes.setNextScenario({ deltas: 100, intervalMs: 30, ignoreStop: true });
      await runner.request('run', { session_id: 'state-events', input: 'x' });
      await runner.waitFor('message.delta', (e) => e.session_id === 'state-events');
      await runner.request('abort', { session_id: 'state-events' });
      const started = await runner.waitFor('abort.started');

      const other = await connect();
      await other.request('resume', { session_id: 'state-events' });
      const resumed = await other.waitFor('resumed');
      expect(resumed).toMatchObject({ isWorking: true, isAborting: true });
      expect(resumed.events).toEqual([
        {
          event: 'abort.started',
          data: { event: 'abort.started', run_id: started.run_id, graceMs: 1500 },
        },
      ]);
      await runner.waitFor('abort.completed', () => true, 5000);
    });
  });
});
