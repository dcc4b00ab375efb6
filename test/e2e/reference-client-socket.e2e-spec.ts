import request from 'supertest';
import { FakeHermesServer } from '../fake-hermes';
import { ChatClient, Received } from './support/chat-client';
import { destroyTestApp, startTestApp, TestApp } from './support/test-app';

/**
 * What the reference web client does over `/chat-run` and needs answered as the reference did:
 * `messageTotal` never undercounts a streaming reply.
 */
describe('/chat-run for the reference web client (e2e)', () => {
  let hermes: FakeHermesServer;
  let t: TestApp;
  const clients: ChatClient[] = [];

  const connect = async () => {
    const client = await ChatClient.connect(t.url, { token: t.token });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    hermes = new FakeHermesServer({ keepaliveMs: 200 });
    t = await startTestApp({ env: { HERMES_URL: await hermes.start() } });
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await t.close();
    await destroyTestApp(t);
    await hermes.stop();
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
      expect(narrow).toMatchObject({ hasMoreBefore: true, messageTotal: 2 });
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
});
