import request from 'supertest';
import { FakeHermesServer } from '../fake-hermes';
import { ChatClient, OpenClients, Received, streamedText } from './support/chat-client';
import { destroyTestApp, startTestApp, TestApp } from './support/test-app';

/** Seqs of one session's events must strictly increase, without gaps inside a run. */
function expectConsecutive(events: readonly Received[]): void {
  const seqs = events.map((e) => e.seq as number);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1] + 1);
}

describe('/chat-run (e2e)', () => {
  let hermes: FakeHermesServer;
  let t: TestApp;
  const clients = new OpenClients();

  const connect = async (options: { token?: string; profile?: string } = {}) => {
    return clients.connect(t.url, { token: t.token, ...options });
  };

  const messagesOf = async (sessionId: string) => {
    const res = await request(t.url)
      .get(`/api/sessions/${sessionId}/messages`)
      .set(t.auth)
      .expect(200);
    return res.body.messages as Record<string, unknown>[];
  };

  beforeAll(async () => {
    hermes = new FakeHermesServer({ keepaliveMs: 200 });
    const hermesUrl = await hermes.start();
    t = await startTestApp({
      env: { HERMES_URL: hermesUrl, ABORT_GRACE_MS: '1500', RUN_STATUS_POLL_MS: '100' },
    });
  });

  afterEach(() => {
    clients.closeAll();
    hermes.setDefaultScenario(undefined);
  });

  afterAll(async () => {
    await t.close();
    await destroyTestApp(t);
    await hermes.stop();
  });

  it('streams a plain run to the room, stores it, and numbers every event', async () => {
    const client = await connect();
    hermes.setNextScenario({
      deltas: 4,
      deltaText: 'w{i} ',
      usage: { input_tokens: 11, output_tokens: 7 },
    });
    const ack = await client.request('run', {
      session_id: 'plain',
      input: 'Hello\nthere',
      model: 'm1',
    });
    expect(ack).toMatchObject({
      ok: true,
      session_id: 'plain',
      status: 'started',
      queue_length: 0,
    });
    const completed = await client.waitFor('run.completed');
    expect(completed).toMatchObject({
      session_id: 'plain',
      queue_remaining: 0,
      output: 'w0 w1 w2 w3 ',
    });

    const events = client.of('plain');
    expect(events.map((e) => e.event)).toEqual([
      'usage.updated',
      'run.started',
      'message.delta',
      'message.delta',
      'message.delta',
      'message.delta',
      'usage.updated',
      'run.completed',
    ]);
    expectConsecutive(events);
    // The context estimate before the run (the user message) and after it (plus the reply).
    const [before, after] = events.filter((e) => e.event === 'usage.updated');
    expect(before).toMatchObject({ inputTokens: expect.any(Number), outputTokens: 0 });
    expect(before.inputTokens).toBeGreaterThan(0);
    expect(after).toMatchObject({ inputTokens: before.inputTokens });
    expect(after.outputTokens).toBeGreaterThan(0);
    expect(streamedText(events)).toBe('w0 w1 w2 w3 ');

    // What went upstream: the input, a fresh ephemeral session, the model, an idempotency key.
    const create = hermes.requestsTo('/v1/runs', 'POST').at(-1)!;
    expect(create.body).toMatchObject({
      input: 'Hello\nthere',
      model: 'm1',
      conversation_history: [],
    });
    expect((create.body as { session_id: string }).session_id).toMatch(/^eph_/);
    expect(create.headers['idempotency-key']).toMatch(/^gw_/);

    // Stored before run.completed went out.
    const messages = await messagesOf('plain');
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Hello\nthere'],
      ['assistant', 'w0 w1 w2 w3 '],
    ]);
    // The run's two ids link socket and REST: its start and end name both.
    const started = events.find((e) => e.event === 'run.started')!;
    expect(started.run_id).toBe(hermes.lastRun!.id);
    expect(started.gateway_run_id).toBe(create.headers['idempotency-key']);
    expect(completed).toMatchObject({
      run_id: started.run_id,
      gateway_run_id: started.gateway_run_id,
    });
    expect(messages.map((m) => m.run_id)).toEqual([started.gateway_run_id, started.gateway_run_id]);
    const usage = await request(t.url).get('/api/sessions/plain/usage').set(t.auth).expect(200);
    expect(usage.body.runs.map((run: { run_id: string }) => run.run_id)).toEqual([
      started.gateway_run_id,
    ]);
    const session = await request(t.url).get('/api/sessions/plain').set(t.auth).expect(200);
    expect(session.body).toMatchObject({
      title: 'Hello there',
      preview: 'Hello there',
      model: 'm1',
      message_count: 2,
      input_tokens: 11,
      output_tokens: 7,
    });
  });

  it('sends the stored transcript as history on the next run', async () => {
    const client = await connect();
    hermes.setNextScenario({ deltas: 1, deltaText: 'first answer' });
    await client.request('run', { session_id: 'history', input: 'one' });
    await client.waitFor('run.completed');
    hermes.setNextScenario({ deltas: 1, deltaText: 'second answer' });
    await client.request('run', { session_id: 'history', input: 'two', instructions: 'Be brief.' });
    await client.waitFor('run.completed', (e) => e.output === 'second answer');
    const create = hermes.requestsTo('/v1/runs', 'POST').at(-1)!;
    expect(create.body).toMatchObject({
      input: 'two',
      instructions: 'Be brief.',
      conversation_history: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'first answer' },
      ],
    });
  });

  it('sends a session deleted and created again none of its old history', async () => {
    const client = await connect();
    hermes.setNextScenario({ deltas: 1, deltaText: 'old answer' });
    await client.request('run', { session_id: 'reborn', input: 'old question' });
    await client.waitFor('run.completed', (e) => e.session_id === 'reborn');
    await request(t.url).delete('/api/sessions/reborn').set(t.auth).expect(204);

    hermes.setNextScenario({ deltas: 1, deltaText: 'new answer' });
    await client.request('run', { session_id: 'reborn', input: 'new question' });
    await client.waitFor('run.completed', (e) => e.output === 'new answer');
    const create = hermes.requestsTo('/v1/runs', 'POST').at(-1)!;
    expect(create.body).toMatchObject({ input: 'new question', conversation_history: [] });
  });

  it('pairs tool calls with their results in the stored transcript', async () => {
    const client = await connect();
    hermes.setNextScenario({
      deltas: 2,
      toolsAfterDeltas: 1,
      tools: [
        { name: 'terminal', preview: 'ls', output: 'a b' },
        { name: 'read_file', preview: 'x.txt', toolCallId: 'call_up_1', output: 'hello' },
      ],
    });
    await client.request('run', { session_id: 'tools', input: 'use tools' });
    await client.waitFor('run.completed');
    const names = client.of('tools').map((e) => e.event);
    expect(names.filter((n) => n === 'tool.started')).toHaveLength(2);
    expect(names.filter((n) => n === 'tool.completed')).toHaveLength(2);

    const messages = await messagesOf('tools');
    const roles = messages.map((m) => m.role);
    expect(roles[0]).toBe('user');
    // Every tool message follows an assistant message whose tool_calls contain its id.
    messages.forEach((message, index) => {
      if (message.role !== 'tool') return;
      const caller = messages
        .slice(0, index)
        .reverse()
        .find((m) => m.role === 'assistant') as { tool_calls?: { id: string }[] };
      expect(caller.tool_calls?.map((c) => c.id)).toContain(message.tool_call_id);
    });
    const results = messages.filter((m) => m.role === 'tool').map((m) => [m.tool_name, m.content]);
    expect(results).toEqual([
      ['terminal', 'a b'],
      ['read_file', 'hello'],
    ]);
    expect(
      messages.some((m) => (m.tool_calls as { id: string }[] | undefined)?.[1]?.id === 'call_up_1'),
    ).toBe(true);
  });

  it('runs two sessions at once without mixing their events', async () => {
    const client = await connect();
    hermes.setNextScenario(
      { deltas: 5, deltaText: 'a{i}', intervalMs: 20 },
      { deltas: 5, deltaText: 'b{i}', intervalMs: 20 },
    );
    await Promise.all([
      client.request('run', { session_id: 'par-a', input: 'a' }),
      client.request('run', { session_id: 'par-b', input: 'b' }),
    ]);
    await client.waitFor('run.completed', (e) => e.session_id === 'par-a');
    await client.waitFor('run.completed', (e) => e.session_id === 'par-b');
    const texts = [streamedText(client.of('par-a')), streamedText(client.of('par-b'))].sort();
    expect(texts).toEqual(['a0a1a2a3a4', 'b0b1b2b3b4']);
    expectConsecutive(client.of('par-a'));
    expectConsecutive(client.of('par-b'));
  });

  it('queues runs per session, cancels a queued one and runs the rest in order', async () => {
    const client = await connect();
    hermes.setDefaultScenario({ deltas: 3, intervalMs: 40 });
    const first = await client.request('run', {
      session_id: 'queue',
      input: 'q1',
      queue_id: 'q-1',
    });
    const second = await client.request('run', {
      session_id: 'queue',
      input: 'q2',
      queue_id: 'q-2',
    });
    const third = await client.request('run', {
      session_id: 'queue',
      input: 'q3',
      queue_id: 'q-3',
    });
    expect(first).toMatchObject({ status: 'started', queue_id: 'q-1' });
    expect(second).toMatchObject({ status: 'queued', queue_id: 'q-2', queue_length: 1 });
    expect(third).toMatchObject({ status: 'queued', queue_id: 'q-3', queue_length: 2 });

    const duplicate = await client.request('run', {
      session_id: 'queue',
      input: 'q2 again',
      queue_id: 'q-2',
    });
    expect(duplicate).toMatchObject({ ok: true, status: 'duplicate' });

    const cancelled = await client.request('cancel_queued_run', {
      session_id: 'queue',
      queue_id: 'q-2',
    });
    expect(cancelled).toEqual({ ok: true, removed: true, queue_length: 1 });
    const again = await client.request('cancel_queued_run', {
      session_id: 'queue',
      queue_id: 'q-2',
    });
    expect(again).toEqual({ ok: true, removed: false, queue_length: 1 });

    await client.waitFor('run.completed', (e) => e.queue_remaining === 0);
    const completions = client.of('queue', 'run.completed');
    expect(completions.map((e) => e.queue_remaining)).toEqual([1, 0]);
    const queued = client.of('queue', 'run.queued').map((e) => e.queue_length);
    expect(queued).toEqual([1, 2, 1, 0]);
    const messages = await messagesOf('queue');
    expect(messages.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['q1', 'q3']);
    expectConsecutive(client.of('queue'));
  });

  it('aborts mid-stream, keeps the partial reply, then starts the queued run', async () => {
    const client = await connect();
    hermes.setNextScenario(
      { deltas: 50, intervalMs: 30, deltaText: 'p{i} ' },
      { deltas: 2, deltaText: 'next{i}' },
    );
    await client.request('run', { session_id: 'abort', input: 'long one' });
    await client.request('run', { session_id: 'abort', input: 'after abort' });
    await client.waitFor('message.delta', (e) => e.delta === 'p2 ');
    const started = Date.now();
    const ack = await client.request('abort', { session_id: 'abort' });
    expect(ack).toMatchObject({ ok: true, aborting: true });
    const completed = await client.waitFor('abort.completed');
    expect(Date.now() - started).toBeLessThan(1500); // the upstream's run.cancelled ended the wait
    expect(completed).toMatchObject({ synced: true, queue_length: 1 });
    await client.waitFor('run.completed', (e) => e.output === 'next0next1');

    const names = client.of('abort').map((e) => e.event);
    expect(names).not.toContain('run.cancelled');
    expect(names.indexOf('abort.started')).toBeLessThan(names.indexOf('abort.completed'));
    const messages = await messagesOf('abort');
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(messages[1].content).toMatch(/^p0 p1 p2 /);
    expect(messages[1].finish_reason).toBe('cancelled');
    expect(hermes.requestsTo('/v1/runs/').filter((r) => r.path.endsWith('/stop'))).not.toHaveLength(
      0,
    );
  });

  it('gives up waiting after graceMs when the upstream ignores the stop', async () => {
    const client = await connect();
    hermes.setNextScenario({ deltas: 100, intervalMs: 30, ignoreStop: true });
    await client.request('run', { session_id: 'stubborn', input: 'x' });
    await client.waitFor('message.delta');
    await client.request('abort', { session_id: 'stubborn' });
    const completed = await client.waitFor('abort.completed', () => true, 5000);
    expect(completed).toMatchObject({ synced: false });
    expect(completed.queue_length).toBeUndefined();
  });

  it('answers an abort with no active run as ignored', async () => {
    const client = await connect();
    await client.request('abort', { session_id: 'idle-abort' });
    const completed = await client.waitFor('abort.completed');
    expect(completed).toMatchObject({ session_id: 'idle-abort', synced: false, ignored: true });
  });

  it('lets a second socket resume mid-run and receive the rest', async () => {
    const first = await connect();
    hermes.setNextScenario({ deltas: 20, intervalMs: 25, deltaText: 'r{i} ' });
    await first.request('run', { session_id: 'resume-mid', input: 'go' });
    await first.waitFor('message.delta', (e) => e.delta === 'r5 ');
    const second = await connect();
    await second.request('resume', { session_id: 'resume-mid' });
    const resumed = await second.waitFor('resumed');
    expect(resumed).toMatchObject({
      isWorking: true,
      isAborting: false,
      queueLength: 0,
      queue: [],
    });
    const partial = (resumed.messages as { role: string; content: string }[]).find(
      (m) => m.role === 'assistant',
    );
    await second.waitFor('run.completed');
    // The snapshot's partial text plus the live deltas after it make the whole reply, once.
    const live = streamedText(
      second.of('resume-mid').filter((e) => (e.seq as number) > (resumed.seq as number)),
    );
    expect(`${partial?.content ?? ''}${live}`).toBe(
      Array.from({ length: 20 }, (_, i) => `r${i} `).join(''),
    );
  });

  it('stores a long reply as it streams, text and reasoning growing, whole at the end', async () => {
    const client = await connect();
    const reasoning = 'Weighing the options one by one before answering.';
    hermes.setNextScenario({ reasoning, deltas: 10, intervalMs: 300, deltaText: 'w{i} ' });
    await client.request('run', { session_id: 'growing', input: 'think, then answer' });
    const completed = client.waitFor('run.completed', (e) => e.session_id === 'growing', 20000);
    let done = false;
    void completed.then(() => (done = true));
    // What the periodic writes (about a second apart) stored while the reply streamed.
    const partials: { content: string; reasoning: string | null }[] = [];
    while (!done) {
      const reply = (await messagesOf('growing'))[1] as (typeof partials)[number] | undefined;
      if (!done && reply && reply.content !== partials.at(-1)?.content) partials.push(reply);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await completed;
    const final = (await messagesOf('growing'))[1];
    const text = 'w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 ';
    expect(final).toMatchObject({ content: text, reasoning });
    // Several writes of the growing text, each the streamed text up to some point.
    expect(partials.filter((partial) => partial.content !== '').length).toBeGreaterThanOrEqual(2);
    for (const partial of partials) {
      expect(reasoning.startsWith(partial.reasoning ?? '')).toBe(true);
      expect(text.startsWith(partial.content)).toBe(true);
    }
  });

  it('finds the whole reply after disconnecting mid-run and resuming after the end', async () => {
    const first = await connect();
    hermes.setNextScenario({ deltas: 10, intervalMs: 20, deltaText: 'd{i}' });
    await first.request('run', { session_id: 'away', input: 'go' });
    await first.waitFor('message.delta');
    first.close();
    await hermes.waitForRunStatus(hermes.lastRun!.id, 'completed');
    const again = await connect();
    // Until the server has seen the end, a resume shows the run as working.
    await waitUntil(async () => {
      again.events.length = 0;
      await again.request('resume', { session_id: 'away' });
      return (await again.waitFor('resumed')).isWorking === false;
    });
    const resumed = await again.waitFor('resumed');
    expect((resumed.messages as { content: string }[]).map((m) => m.content)).toEqual([
      'go',
      'd0d1d2d3d4d5d6d7d8d9',
    ]);
  });

  it('replays exactly the missed events after after_seq', async () => {
    const first = await connect();
    hermes.setNextScenario({ deltas: 12, intervalMs: 20, deltaText: 's{i} ' });
    await first.request('run', { session_id: 'replay', input: 'go' });
    const cut = await first.waitFor('message.delta', (e) => e.delta === 's3 ');
    first.close();
    const second = await connect();
    // Let some events go by while nobody listens.
    const upstream = hermes.lastRun!;
    await hermes.waitFor(() => upstream.deltasEmitted >= 7);
    const ack = await second.request('resume', { session_id: 'replay', after_seq: cut.seq });
    expect(ack).toMatchObject({ ok: true, replayed: true });
    await second.waitFor('run.completed');
    const after = second.of('replay').filter((e) => e.event !== 'resumed');
    expect(after[0].seq).toBe((cut.seq as number) + 1);
    expectConsecutive(after);
    expect(streamedText(after)).toBe(Array.from({ length: 8 }, (_, i) => `s${i + 4} `).join(''));
  });

  it.each([
    ['upstream 500', { createStatus: 500 }, 'upstream_error'],
    ['upstream 503', { createStatus: 503 }, 'upstream_unavailable'],
    ['a 2xx without run_id', { missingRunId: true }, 'protocol_error'],
  ])('fails the run with a code on %s, and the queue goes on', async (_label, scenario, code) => {
    const client = await connect();
    const sessionId = `fail-${code}`;
    hermes.setNextScenario(scenario, { deltas: 1, deltaText: 'recovered' });
    await client.request('run', { session_id: sessionId, input: 'x' });
    await client.request('run', { session_id: sessionId, input: 'y' });
    const failed = await client.waitFor('run.failed');
    expect(failed).toMatchObject({ code, queue_remaining: 1 });
    expect(typeof failed.error).toBe('string');
    await client.waitFor('run.completed', (e) => e.output === 'recovered');
  });

  it('skips garbage SSE lines', async () => {
    const client = await connect();
    hermes.setNextScenario({ deltas: 3, garbageLines: 4, deltaText: 'g{i}' });
    await client.request('run', { session_id: 'garbage', input: 'x' });
    await client.waitFor('run.completed');
    expect(streamedText(client.of('garbage'))).toBe('g0g1g2');
  });

  it('recovers the reply through the status endpoint when the stream drops', async () => {
    const client = await connect();
    hermes.setNextScenario({ deltas: 8, intervalMs: 20, deltaText: 'x{i}', dropStreamAfter: 2 });
    await client.request('run', { session_id: 'dropped', input: 'x' });
    const completed = await client.waitFor('run.completed');
    expect(completed.output).toBe('x0x1x2x3x4x5x6x7');
    const messages = await messagesOf('dropped');
    expect(messages.at(-1)).toMatchObject({ role: 'assistant', content: 'x0x1x2x3x4x5x6x7' });
  });

  it('ends as interrupted, keeping the partial text, when the upstream forgets the dropped run', async () => {
    const client = await connect();
    hermes.setNextScenario({
      deltas: 8,
      intervalMs: 20,
      deltaText: 'f{i}',
      dropStreamAfter: 2,
      forgetRunAfterDrop: true,
    });
    await client.request('run', { session_id: 'forgotten', input: 'x' });
    const failed = await client.waitFor('run.failed');
    expect(failed).toMatchObject({ code: 'interrupted' });
    const messages = await messagesOf('forgotten');
    expect(messages.at(-1)).toMatchObject({ role: 'assistant', content: 'f0f1' });
  });

  it('forwards approval requests and passes the answer upstream', async () => {
    const client = await connect();
    hermes.setNextScenario({ deltas: 2, approval: { afterDeltas: 1, requestId: 'req-1' } });
    await client.request('run', { session_id: 'approval', input: 'x' });
    const asked = await client.waitFor('approval.request');
    expect(asked).toMatchObject({ request_id: 'req-1', session_id: 'approval' });
    const ack = await client.request('approval.respond', {
      session_id: 'approval',
      choice: 'once',
      request_id: 'req-1',
    });
    expect(ack).toEqual({ ok: true, session_id: 'approval' });
    await client.waitFor('run.completed');
    const none = await client.request('approval.respond', {
      session_id: 'approval',
      choice: 'deny',
    });
    expect(none).toMatchObject({ ok: false, error: { code: 'no_pending_approval' } });
  });

  describe('bad requests', () => {
    it.each([
      ['run', null],
      ['run', 'text'],
      ['run', { input: '' }],
      ['run', { input: [] }],
      ['run', { input: [{ type: 'video' }] }],
      ['run', { input: 'x', session_id: 'has spaces' }],
      ['run', { input: 'x', session_id: 's', queue_id: 7 }],
      ['run', { input: 42, session_id: 's' }],
      ['resume', {}],
      ['resume', { session_id: 's', after_seq: -1 }],
      ['abort', null],
      ['abort', { session_id: 5 }],
      ['cancel_queued_run', { session_id: 's' }],
      ['approval.respond', { session_id: 's', choice: 'maybe' }],
    ])('%s %j is answered invalid_payload through the ack', async (event, payload) => {
      const client = await connect();
      const answer = await client.request(event, payload);
      expect(answer).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
      expect(client.socket.connected).toBe(true);
    });

    it('answers request.error when there is no ack', async () => {
      const client = await connect();
      client.socket.emit('abort', null);
      client.socket.emit('run', { input: '', session_id: 'no-ack' });
      const first = await client.waitFor('request.error', (e) => e.request === 'abort');
      expect(first).toMatchObject({ code: 'invalid_payload' });
      const second = await client.waitFor('request.error', (e) => e.request === 'run');
      expect(second).toMatchObject({ code: 'invalid_payload', session_id: 'no-ack' });
    });

    it('refuses an input over the limit with input_too_large, without disconnecting', async () => {
      const client = await connect();
      const answer = await client.request('run', {
        session_id: 'big',
        input: 'x'.repeat(512 * 1024 + 1),
      });
      expect(answer).toMatchObject({ ok: false, error: { code: 'input_too_large' } });
      expect(client.socket.connected).toBe(true);
    });
  });

  describe('handshake', () => {
    it('refuses a wrong or missing token', async () => {
      await expect(ChatClient.connect(t.url, { token: 'wrong' })).rejects.toThrow(
        'Authentication failed',
      );
      await expect(ChatClient.connect(t.url, {})).rejects.toThrow('Authentication failed');
    });

    it('refuses an unknown profile', async () => {
      await expect(ChatClient.connect(t.url, { token: t.token, profile: 'nope' })).rejects.toThrow(
        /Unknown profile 'nope'/,
      );
    });
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
