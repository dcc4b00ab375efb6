import request from 'supertest';
import { FakeHermesServer } from '../fake-hermes';
import { OpenClients, streamedText } from './support/chat-client';
import { destroyTestApp, startTestApp, TestApp, usePostgres } from './support/test-app';

/** What PostgreSQL stores for a NUL (its text type cannot hold one); SQLite keeps it. */
const STORED_NUL = usePostgres ? '\uFFFD' : '\u0000';

/**
 * Every run ends, whatever the upstream does, and any text is storable: an upstream that dies
 * mid-run, a run past its time limit, a stream of keepalives only, a NUL in a reply or a title.
 */
describe('runs always end, any text is stored (e2e)', () => {
  const clients = new OpenClients();
  const apps: TestApp[] = [];
  const fakes: FakeHermesServer[] = [];

  const start = async (env: Record<string, string> = {}) => {
    const hermes = new FakeHermesServer({ keepaliveMs: 100 });
    fakes.push(hermes);
    const app = await startTestApp({
      env: { HERMES_URL: await hermes.start(), RUN_STATUS_POLL_MS: '100', ...env },
    });
    apps.push(app);
    const client = await clients.connect(app.url, { token: app.token });
    return { hermes, app, client };
  };

  const messagesOf = async (app: TestApp, sessionId: string) => {
    const res = await request(app.url)
      .get(`/api/sessions/${sessionId}/messages`)
      .set(app.auth)
      .expect(200);
    return res.body.messages as { role: string; content: string; finish_reason?: string }[];
  };

  afterEach(async () => {
    clients.closeAll();
    for (const app of apps.splice(0)) {
      await app.close();
      await destroyTestApp(app);
    }
    for (const hermes of fakes.splice(0)) await hermes.stop();
  });

  it('ends a run whose upstream died with upstream_unavailable, keeps its text, and ends the queued run too', async () => {
    const { hermes, app, client } = await start({ UPSTREAM_UNAVAILABLE_MS: '1500' });
    hermes.setNextScenario({ deltas: 100, intervalMs: 50, deltaText: 'w{i} ' });
    await client.request('run', { session_id: 'dies', input: 'first' });
    await client.request('run', { session_id: 'dies', input: 'queued behind it' });
    await client.waitFor('message.delta', (e) => e.delta === 'w2 ');

    const killedAt = Date.now();
    await hermes.stop();

    const failed = await client.waitFor('run.failed', (e) => e.session_id === 'dies', 20_000);
    expect(failed).toMatchObject({ code: 'upstream_unavailable', queue_remaining: 1 });
    // Bounded by UPSTREAM_UNAVAILABLE_MS (plus a poll), not by the hour-long recovery timeout.
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    const next = await client.waitFor(
      'run.failed',
      (e) => e.session_id === 'dies' && e.queue_remaining === 0,
      20_000,
    );
    expect(next.code).toBe('upstream_unavailable');

    const [question, partial, second] = await messagesOf(app, 'dies');
    expect(question.content).toBe('first');
    expect(partial).toMatchObject({ role: 'assistant', finish_reason: 'error' });
    expect(partial.content).toBe(streamedText(client.of('dies')));
    expect(partial.content.startsWith('w0 w1 w2 ')).toBe(true);
    expect(second).toMatchObject({ role: 'user', content: 'queued behind it' });
  });

  it('ends a run past RUN_MAX_DURATION_MS with run_timeout, stops it upstream, and starts the queue', async () => {
    const { hermes, app, client } = await start({ RUN_MAX_DURATION_MS: '1000' });
    hermes.setNextScenario({ deltas: 200, intervalMs: 50, deltaText: 'w{i} ' });
    await client.request('run', { session_id: 'long', input: 'a very long answer' });
    await client.request('run', { session_id: 'long', input: 'then this' });

    const failed = await client.waitFor('run.failed', (e) => e.session_id === 'long', 10_000);
    expect(failed).toMatchObject({ code: 'run_timeout', queue_remaining: 1 });
    await hermes.waitFor(() => hermes.listRuns().some((run) => run.status === 'cancelled'));
    await client.waitFor('run.completed', (e) => e.session_id === 'long', 10_000);

    const [, partial] = await messagesOf(app, 'long');
    expect(partial.finish_reason).toBe('error');
    expect(partial.content.length).toBeGreaterThan(0);
    const deltas = client.of('long', 'message.delta');
    expect(partial.content.startsWith(String(deltas[0].delta))).toBe(true);
  });

  it('ends a stream that sends nothing but keepalives at the run time limit', async () => {
    const { hermes, client } = await start({ RUN_MAX_DURATION_MS: '1000' });
    hermes.setNextScenario({ deltas: 1, delayBeforeFirstEventMs: 60_000 });
    await client.request('run', { session_id: 'silent', input: 'anyone there?' });
    const failed = await client.waitFor('run.failed', (e) => e.session_id === 'silent', 10_000);
    expect(failed.code).toBe('run_timeout');
  });

  it('stores a reply with a NUL in it, and accepts NUL in a title, a search and an input', async () => {
    const { hermes, app, client } = await start();
    hermes.setNextScenario({ deltas: 3, deltaText: 'a\u0000{i}' });
    await client.request('run', { session_id: 'nul', input: 'say \u0000 please' });
    const completed = await client.waitFor('run.completed', (e) => e.session_id === 'nul');
    expect(completed.code).toBeUndefined();

    const [question, reply] = await messagesOf(app, 'nul');
    expect(question.content).toBe(`say ${STORED_NUL} please`);
    expect(reply.content).toBe(`a${STORED_NUL}0a${STORED_NUL}1a${STORED_NUL}2`);

    await request(app.url)
      .patch('/api/sessions/nul')
      .set(app.auth)
      .send({ title: 'with \u0000 inside' })
      .expect(200);
    const search = await request(app.url)
      .get('/api/sessions/search')
      .query({ q: 'say \u0000' })
      .set(app.auth)
      .expect(200);
    expect(search.body.hits.map((hit: { session: { id: string } }) => hit.session.id)).toEqual([
      'nul',
    ]);
  });
});
