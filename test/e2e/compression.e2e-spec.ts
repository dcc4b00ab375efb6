import request from 'supertest';
import { TokenCounter } from '../../src/tokens/token-counter';
import { FakeHermesServer, type CreateRunRequest } from '../fake-hermes';
import type { ScenarioInput } from '../fake-hermes/scenario';
import { ChatClient, Received } from './support/chat-client';
import { destroyTestApp, startTestApp, TestApp } from './support/test-app';

// A 2,048-token context: the trigger is 1,024 tokens (threshold 0.5), the verbatim tail at most
// 256 and a summary at most 153, so a dozen turns of ~200 tokens cross it several times.
const CONTEXT_LENGTH = 2048;
const TRIGGER = 1024;
const SUMMARY_MARKER = '[Summary of the earlier conversation]';

const isSummariser = (create: CreateRunRequest): boolean =>
  (create.instructions ?? '').startsWith('You compress conversations');

/** ~40 distinct words per delta, three deltas: a reply of about 150 tokens. */
const REPLY: ScenarioInput = {
  deltas: 3,
  deltaText: (i: number) => Array.from({ length: 40 }, (_, w) => `r${i}w${w}`).join(' ') + '\n',
  intervalMs: 1,
  usage: { input_tokens: 100, output_tokens: 50 },
};

describe('context compression and usage (e2e)', () => {
  let hermes: FakeHermesServer;
  let t: TestApp;
  let client: ChatClient;
  const tokens = new TokenCounter();
  let summaryScenario: ScenarioInput;

  beforeAll(async () => {
    hermes = new FakeHermesServer({ keepaliveMs: 200 });
    hermes.onCreate = (create) => (isSummariser(create) ? summaryScenario : REPLY);
    const hermesUrl = await hermes.start();
    t = await startTestApp({
      env: { HERMES_URL: hermesUrl, HERMES_CONTEXT_LENGTH: String(CONTEXT_LENGTH) },
    });
  });

  beforeEach(async () => {
    summaryScenario = {
      deltas: 1,
      deltaText: 'SUMMARY so far: the user asked many numbered questions.',
      intervalMs: 0,
      usage: { input_tokens: 500, output_tokens: 20 },
    };
    client = await ChatClient.connect(t.url, { token: t.token });
  });

  afterEach(() => client.close());

  afterAll(async () => {
    tokens.onModuleDestroy();
    await t.close();
    await destroyTestApp(t);
    await hermes.stop();
  });

  /** One run to its end; returns the events of that run (from `run` to its terminal event). */
  async function runTurn(sessionId: string, index: number): Promise<Received[]> {
    const from = client.of(sessionId).length;
    const question =
      `question ${index}: ` + Array.from({ length: 10 }, (_, w) => `q${index}w${w}`).join(' ');
    const ack = await client.request('run', { session_id: sessionId, input: question });
    expect(ack).toMatchObject({ ok: true });
    await client.waitFor(
      'run.completed',
      (e) => e.session_id === sessionId && client.of(sessionId).indexOf(e) >= from,
      15000,
    );
    return client.of(sessionId).slice(from);
  }

  /** Bodies of `POST /v1/runs`, chat runs or summariser runs. */
  const creates = (summariser: boolean): Record<string, unknown>[] =>
    hermes
      .requestsTo('/v1/runs', 'POST')
      .map((r) => r.body as Record<string, unknown>)
      .filter((body) => String(body['instructions']).startsWith('You compress') === summariser);

  /** Tokens of a chat run's history and input, as the upstream received them. */
  const sentTokens = (body: Record<string, unknown>): number => {
    const history = body['conversation_history'] as { content: string }[];
    const historyTokens = history.reduce((n, turn) => n + tokens.countInline(turn.content), 0);
    return historyTokens + tokens.countInline(String(body['input']));
  };

  it('keeps a long session running: compresses once per crossing, never over the trigger, transcript whole', async () => {
    const sessionId = 'long-session';
    const runs: Received[][] = [];
    for (let i = 0; i < 12; i++) runs.push(await runTurn(sessionId, i));

    const compressing = runs
      .map((events, index) => (events.some((e) => e.event === 'compression.started') ? index : -1))
      .filter((index) => index >= 0);
    expect(compressing.length).toBeGreaterThanOrEqual(2);
    // Hysteresis: after a compression the next run never compresses again.
    for (let k = 1; k < compressing.length; k++) {
      expect(compressing[k] - compressing[k - 1]).toBeGreaterThan(1);
    }

    for (const index of compressing) {
      const names = runs[index].map((e) => e.event);
      const at = (name: string) => names.indexOf(name);
      expect(at('compression.started')).toBeLessThan(at('compression.completed'));
      expect(at('compression.completed')).toBeLessThan(at('run.started'));
      const started = runs[index][at('compression.started')];
      const completed = runs[index][at('compression.completed')];
      expect(started.token_count as number).toBeGreaterThan(TRIGGER);
      expect(completed).toMatchObject({ compressed: true, llmCompressed: true });
      expect(completed.error).toBeUndefined();
      expect(completed.afterTokens as number).toBeLessThan(TRIGGER / 2);
      // The estimate sent before the run is the compressed one.
      const usage = runs[index].find((e) => e.event === 'usage.updated')!;
      expect((usage.inputTokens as number) + (usage.outputTokens as number)).toBe(
        completed.afterTokens,
      );
    }

    // What the upstream was sent: never more than the trigger, and a summary once compressed.
    for (const [index, body] of creates(false).slice(-12).entries()) {
      expect(sentTokens(body)).toBeLessThanOrEqual(TRIGGER);
      const history = body['conversation_history'] as { content: string }[];
      if (index >= compressing[0]) expect(history[0].content.startsWith(SUMMARY_MARKER)).toBe(true);
    }

    // The summariser: its own ephemeral session, the older turns, then incremental updates.
    const summaries = creates(true);
    expect(summaries).toHaveLength(compressing.length);
    expect(String(summaries[0]['session_id'])).toMatch(/^eph_gw_.*\.s0$/);
    expect(String(summaries[0]['input'])).toContain('question 0:');
    expect(String(summaries[0]['input'])).not.toContain('Previous summary:');
    expect(String(summaries[1]['input'])).toContain('Previous summary:\nSUMMARY so far');
    expect(String(summaries[1]['input'])).not.toContain('question 0:');

    // The stored transcript is complete.
    const messages = await request(t.url)
      .get(`/api/sessions/${sessionId}/messages?limit=100`)
      .set(t.auth)
      .expect(200);
    expect(messages.body.messages).toHaveLength(24);
    expect(messages.body.messages[0].content).toMatch(/^question 0:/);

    // Usage: every chat run and summariser run, totals on the session, the latest estimate.
    const usage = await request(t.url)
      .get(`/api/sessions/${sessionId}/usage`)
      .set(t.auth)
      .expect(200);
    const summariserRuns = compressing.length;
    expect(usage.body.totals).toMatchObject({
      input_tokens: 12 * 100 + summariserRuns * 500,
      output_tokens: 12 * 50 + summariserRuns * 20,
    });
    expect(usage.body.runs).toHaveLength(12 + summariserRuns);
    expect(usage.body.runs.filter((r: { kind: string }) => r.kind === 'compression')).toHaveLength(
      summariserRuns,
    );
    const lastUsage = runs[11].filter((e) => e.event === 'usage.updated').at(-1)!;
    expect(usage.body.context).toEqual({
      input_tokens: lastUsage.inputTokens,
      output_tokens: lastUsage.outputTokens,
    });
    // A resuming client is told the same estimate.
    const other = await ChatClient.connect(t.url, { token: t.token });
    await other.request('resume', { session_id: sessionId });
    const resumed = await other.waitFor('resumed');
    other.close();
    expect(resumed).toMatchObject({
      inputTokens: lastUsage.inputTokens,
      outputTokens: lastUsage.outputTokens,
    });

    const stats = await request(t.url).get('/api/usage/stats?days=7').set(t.auth).expect(200);
    expect(stats.body.by_day).toHaveLength(7);
    expect(stats.body.by_day.at(-1)).toMatchObject({
      day: stats.body.to,
      runs: 12 + summariserRuns,
    });
    for (const day of stats.body.by_day.slice(0, -1))
      expect(day).toMatchObject({ runs: 0, input_tokens: 0 });
    expect(stats.body.totals.runs).toBeGreaterThanOrEqual(12 + summariserRuns);

    // Deleting the session deletes its usage rows and snapshot.
    await request(t.url).delete(`/api/sessions/${sessionId}`).set(t.auth).expect(204);
    await request(t.url).get(`/api/sessions/${sessionId}/usage`).set(t.auth).expect(404);
    const after = await request(t.url).get('/api/usage/stats?days=7').set(t.auth).expect(200);
    expect(after.body.totals.runs).toBe(stats.body.totals.runs - (12 + summariserRuns));
  });

  it('goes ahead without the summary when summarising fails, and says what it left out', async () => {
    summaryScenario = { fail: { afterDeltas: 0, error: 'summariser exploded' }, intervalMs: 0 };
    const sessionId = 'failing-summary';
    const runs: Received[][] = [];
    for (let i = 0; i < 7; i++) runs.push(await runTurn(sessionId, i));

    const failed = runs.flat().filter((e) => e.event === 'compression.completed');
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed[0]).toMatchObject({ compressed: true, llmCompressed: false });
    expect(String(failed[0].error)).toMatch(/summariser exploded/);
    expect(String(failed[0].error)).toMatch(/older ones are kept in the transcript/);
    for (const events of runs) expect(events.at(-1)!.event).toBe('run.completed');

    for (const body of creates(false).slice(-7)) {
      expect(sentTokens(body)).toBeLessThanOrEqual(TRIGGER);
    }
    const messages = await request(t.url)
      .get(`/api/sessions/${sessionId}/messages?limit=100`)
      .set(t.auth)
      .expect(200);
    expect(messages.body.messages).toHaveLength(14);
  });

  it('shows a resuming client the compression in progress', async () => {
    const sessionId = 'slow-summary';
    for (let i = 0; i < 5; i++) await runTurn(sessionId, i);
    summaryScenario = { ...summaryScenario, delayBeforeFirstEventMs: 800 };
    const from = client.of(sessionId).length;
    // A long question crosses the trigger whatever the state of the snapshot.
    const long = Array.from({ length: 250 }, (_, w) => `long${w}`).join(' ');
    await client.request('run', { session_id: sessionId, input: long });
    await client.waitFor('compression.started', (e) => client.of(sessionId).indexOf(e) >= from);

    const other = await ChatClient.connect(t.url, { token: t.token });
    await other.request('resume', { session_id: sessionId });
    const resumed = await other.waitFor('resumed');
    expect(resumed).toMatchObject({ isWorking: true });
    expect((resumed.events as { event: string }[]).map((e) => e.event)).toEqual([
      'compression.started',
    ]);
    await other.waitFor('compression.completed');
    await other.waitFor('run.completed', () => true, 15000);
    other.close();
  });

  it('rejects bad usage queries with a stable code', async () => {
    const bad = await request(t.url).get('/api/usage/stats?days=0').set(t.auth).expect(400);
    expect(bad.body).toMatchObject({ code: 'invalid_payload' });
    await request(t.url).get('/api/usage/stats?profile=../x').set(t.auth).expect(400);
    const missing = await request(t.url).get('/api/sessions/nope/usage').set(t.auth).expect(404);
    expect(missing.body).toMatchObject({ code: 'unknown_session' });
    await request(t.url).get('/api/usage/stats').expect(401);
  });
});
