/**
 * The fake against the contract (`docs/hermes-upstream.md`), over real HTTP: fetch for JSON
 * endpoints and the SSE reader of this folder for event streams.
 */
import { FakeHermesServer } from './fake-hermes.server';
import { openSse, type SseStream } from './sse-reader';

type Json = Record<string, unknown>;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Json;
}

let server: FakeHermesServer;
let base: string;

beforeAll(async () => {
  server = new FakeHermesServer({ recordEvents: true });
  base = await server.start();
  server.setDefaultScenario({ intervalMs: 2 });
});

afterAll(async () => {
  await server.stop();
});

afterEach(() => {
  server.apiKey = undefined;
  server.keepaliveMs = 30_000;
  server.onCreate = undefined;
  server.reset();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Json) : {} };
}

async function createRun(
  scenario?: string,
  body: Json = { input: 'hello' },
  headers: Record<string, string> = {},
): Promise<string> {
  const answer = await call(
    'POST',
    '/v1/runs',
    body,
    scenario ? { 'X-Fake-Scenario': scenario, ...headers } : headers,
  );
  expect(answer.status).toBe(202);
  return answer.body.run_id as string;
}

function subscribe(runId: string, headers?: Record<string, string>): Promise<SseStream> {
  return openSse(`${base}/v1/runs/${runId}/events`, { keepRaw: true, headers });
}

function events(stream: SseStream): Json[] {
  return stream.events as Json[];
}

function types(stream: SseStream): string[] {
  return events(stream).map((e) => e.event as string);
}

function errorCode(answer: Answer): unknown {
  return (answer.body.error as Json | undefined)?.code;
}

describe('health and routing', () => {
  it('answers /health and 404s unknown routes with JSON', async () => {
    expect(await call('GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const missing = await call('GET', '/v1/nothing');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual(expect.objectContaining({ message: expect.any(String) }));
    expect((await call('GET', '/v1/runs')).status).toBe(405);
  });
});

describe('a plain run', () => {
  it('is created, streamed in order with the spec fields, completed, and closed', async () => {
    const created = await call('POST', '/v1/runs', {
      input: 'hello',
      session_id: 'eph_1',
      model: 'm-1',
    });
    expect(created.status).toBe(202);
    expect(created.body).toEqual({
      run_id: expect.stringMatching(/^run_[0-9a-f]{32}$/),
      status: 'started',
      replayed: false,
    });
    const runId = created.body.run_id as string;

    const stream = await subscribe(runId);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    const end = await stream.done;
    expect(end.complete).toBe(true);

    // Only `data: <json>` frames and comments, each followed by a blank line; no `event:` lines.
    expect(stream.raw).toMatch(/^(?:(?:data: [^\n]*|: [^\n]*)\n\n)+$/);
    expect(stream.raw).not.toMatch(/^event:/m);
    expect(types(stream)).toEqual([...Array<string>(5).fill('message.delta'), 'run.completed']);
    const evs = events(stream);
    const now = Date.now() / 1000;
    let previous = 0;
    for (const e of evs) {
      expect(e.run_id).toBe(runId);
      expect(typeof e.timestamp).toBe('number');
      expect(Math.abs((e.timestamp as number) - now)).toBeLessThan(10);
      expect(e.timestamp as number).toBeGreaterThanOrEqual(previous);
      previous = e.timestamp as number;
    }
    const deltas = evs.slice(0, 5);
    expect(deltas.map((d) => d.delta)).toEqual(['tok0 ', 'tok1 ', 'tok2 ', 'tok3 ', 'tok4 ']);
    for (const d of deltas) {
      expect(typeof d.sent_at).toBe('number');
      expect(d.sent_at as number).toBeGreaterThanOrEqual((d.timestamp as number) * 1000 - 1);
    }
    expect(evs[5]).toEqual({
      event: 'run.completed',
      run_id: runId,
      timestamp: expect.any(Number),
      output: 'tok0 tok1 tok2 tok3 tok4 ',
      usage: { input_tokens: 2, output_tokens: 5, total_tokens: 7 },
    });
    expect(stream.items[stream.items.length - 1]).toEqual({
      kind: 'comment',
      text: 'stream closed',
    });

    const status = await call('GET', `/v1/runs/${runId}`);
    expect(status.status).toBe(200);
    expect(status.body).toEqual({
      object: 'hermes.run',
      run_id: runId,
      status: 'completed',
      created_at: expect.any(Number),
      updated_at: expect.any(Number),
      session_id: 'eph_1',
      model: 'm-1',
      last_event: 'run.completed',
      output: 'tok0 tok1 tok2 tok3 tok4 ',
      usage: { input_tokens: 2, output_tokens: 5, total_tokens: 7 },
    });
    expect(server.openStreams).toBe(0);
  });

  it('buffers events produced before the subscriber connects', async () => {
    const runId = await createRun('deltas:3');
    await server.waitForRunStatus(runId, 'completed');
    const stream = await subscribe(runId);
    expect((await stream.done).complete).toBe(true);
    expect(types(stream)).toEqual([
      'message.delta',
      'message.delta',
      'message.delta',
      'run.completed',
    ]);
    expect(stream.comments()).toEqual(['stream closed']);
  });

  it('answers a second subscriber, and any after the stream ended, with 404', async () => {
    const runId = await createRun('delay:60000');
    const first = await subscribe(runId);
    expect(first.status).toBe(200);
    expect(server.openStreams).toBe(1);

    const second = await subscribe(runId);
    expect(second.status).toBe(404);
    await second.done;
    expect((JSON.parse(second.body) as { error: Json }).error.code).toBe('run_not_found');

    expect((await call('POST', `/v1/runs/${runId}/stop`)).status).toBe(200);
    expect((await first.done).complete).toBe(true);
    const third = await subscribe(runId);
    expect(third.status).toBe(404);
    await third.done;
  });

  it('polls status while running, and 404s an unknown run', async () => {
    const runId = await createRun('delay:60000');
    const running = await call('GET', `/v1/runs/${runId}`);
    expect(running.body).toMatchObject({
      object: 'hermes.run',
      status: 'running',
      last_event: null,
      session_id: runId,
    });
    expect(running.body).not.toHaveProperty('output');
    expect(running.body.model).toBe('hermes-agent');
    const unknown = await call('GET', '/v1/runs/run_doesnotexist');
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown)).toBe('run_not_found');
  });
});

describe('event kinds', () => {
  it('sends status, reasoning, tool calls (with and without ids/outputs) and a Python-literal delta', async () => {
    const runId = await createRun('full');
    const stream = await subscribe(runId);
    await stream.done;
    expect(types(stream)).toEqual([
      'status.message',
      'reasoning.delta',
      'reasoning.delta',
      'thinking.delta',
      'reasoning.available',
      'tool.started',
      'tool.completed',
      'tool.started',
      'tool.completed',
      ...Array<string>(6).fill('message.delta'),
      'run.completed',
    ]);
    const evs = events(stream);
    expect(typeof evs[1].text).toBe('string');
    expect(typeof evs[3].delta).toBe('string');
    expect(evs[4].text).toBe(
      `${evs[1].text as string}${evs[2].text as string}${evs[3].delta as string}`,
    );
    expect(evs[5]).toMatchObject({
      tool: 'terminal',
      preview: 'fake preview 0',
      tool_call_id: 'call_fake_0',
    });
    expect(evs[6]).toMatchObject({
      tool: 'terminal',
      error: false,
      output: 'fake output 0',
      duration: expect.any(Number),
    });
    expect(evs[7]).not.toHaveProperty('tool_call_id');
    expect(evs[8]).not.toHaveProperty('output');
    expect(evs[14].delta).toBe("[{'type': 'text', 'text': 'hi', 'cached': True, 'x': None}]");
    expect(evs[15].output).toBe('tok0 tok1 tok2 tok3 tok4 hi');
  });

  it('double-serialises the output when asked', async () => {
    const runId = await createRun('deltas:2,doubleOutput');
    const stream = await subscribe(runId);
    await stream.done;
    const output = events(stream).at(-1)?.output as string;
    expect(output.startsWith('"[')).toBe(true);
    expect(JSON.parse(JSON.parse(output) as string)).toEqual([
      { type: 'text', text: 'tok0 tok1 ' },
    ]);
  });

  it('ends with run.failed after N deltas', async () => {
    const runId = await createRun('fail:2,error:provider exploded');
    const stream = await subscribe(runId);
    expect((await stream.done).complete).toBe(true);
    expect(types(stream)).toEqual(['message.delta', 'message.delta', 'run.failed']);
    expect(events(stream)[2].error).toBe('provider exploded');
    expect(stream.comments()).toEqual(['stream closed']);
    expect((await call('GET', `/v1/runs/${runId}`)).body).toMatchObject({
      status: 'failed',
      error: 'provider exploded',
      last_event: 'run.failed',
    });
  });

  it('interleaves garbage data lines that are not event JSON', async () => {
    const runId = await createRun('deltas:4,garbage:3');
    const stream = await subscribe(runId);
    await stream.done;
    const data = stream.dataItems();
    const isEvent = (d: string): boolean => {
      try {
        const v: unknown = JSON.parse(d);
        return typeof v === 'object' && v !== null && typeof (v as Json).event === 'string';
      } catch {
        return false;
      }
    };
    expect(data.filter((d) => !isEvent(d))).toHaveLength(3);
    expect(data.some((d) => d === 'this is not json')).toBe(true);
    const valid = data.filter(isEvent).map((d) => (JSON.parse(d) as Json).event);
    expect(valid).toEqual([
      'message.delta',
      'message.delta',
      'message.delta',
      'message.delta',
      'run.completed',
    ]);
  });

  it('emits run.steered on /steer and refuses a finished run', async () => {
    const runId = await createRun('delay:60000');
    const stream = await subscribe(runId);
    const steer = await call('POST', `/v1/runs/${runId}/steer`, { input: 'be brief' });
    expect(steer.status).toBe(200);
    await stream.waitForEvent('run.steered');
    expect(events(stream)[0]).toMatchObject({ event: 'run.steered', input: 'be brief' });
    await call('POST', `/v1/runs/${runId}/stop`);
    await stream.done;
    expect((await call('POST', `/v1/runs/${runId}/steer`, { input: 'x' })).status).toBe(409);
  });
});

describe('stop', () => {
  it('answers stopping, ends the stream with run.cancelled, then answers the status object', async () => {
    const runId = await createRun('delay:60000');
    const stream = await subscribe(runId);
    const stop = await call('POST', `/v1/runs/${runId}/stop`);
    expect(stop).toMatchObject({ status: 200, body: { run_id: runId, status: 'stopping' } });
    expect((await stream.done).complete).toBe(true);
    expect(types(stream)).toEqual(['run.cancelled']);
    expect(stream.comments()).toEqual(['stream closed']);
    const again = await call('POST', `/v1/runs/${runId}/stop`);
    expect(again.body).toMatchObject({
      object: 'hermes.run',
      status: 'cancelled',
      last_event: 'run.cancelled',
    });
    expect((await call('POST', '/v1/runs/run_unknown/stop')).status).toBe(404);
  });

  it('can be ignored (ignoreStop): the run completes after stopping', async () => {
    const runId = await createRun('deltas:3,interval:20,ignoreStop');
    const stream = await subscribe(runId);
    await stream.waitForEvent('message.delta');
    expect((await call('POST', `/v1/runs/${runId}/stop`)).body.status).toBe('stopping');
    expect((await call('GET', `/v1/runs/${runId}`)).body.status).toBe('stopping');
    await stream.done;
    expect(types(stream).at(-1)).toBe('run.completed');
    expect((await call('GET', `/v1/runs/${runId}`)).body.status).toBe('completed');
  });

  it('answers 409 run_not_active for a run interrupted by an upstream restart', async () => {
    const runId = await createRun('delay:60000');
    const stream = await subscribe(runId);
    server.simulateRestart();
    expect((await stream.done).complete).toBe(false);
    expect((await call('GET', `/v1/runs/${runId}`)).body.status).toBe('interrupted');
    const stop = await call('POST', `/v1/runs/${runId}/stop`);
    expect(stop.status).toBe(409);
    expect(errorCode(stop)).toBe('run_not_active');
  });
});

describe('dropped streams', () => {
  it('drops the connection mid-run without a terminal event while the run completes upstream', async () => {
    const runId = await createRun('deltas:6,drop:2,interval:5');
    const stream = await subscribe(runId);
    const end = await stream.done;
    expect(end.complete).toBe(false);
    expect(types(stream)).toEqual(['message.delta', 'message.delta']);
    expect(stream.comments()).toEqual([]);
    await server.waitFor(() => server.openStreams === 0);
    await server.waitForRunStatus(runId, 'completed');
    const status = await call('GET', `/v1/runs/${runId}`);
    expect(status.body).toMatchObject({
      status: 'completed',
      output: 'tok0 tok1 tok2 tok3 tok4 tok5 ',
      usage: { input_tokens: 2, output_tokens: 6, total_tokens: 8 },
    });
    const again = await subscribe(runId);
    expect(again.status).toBe(404);
    await again.done;
  });

  it('drops a late subscriber right after the backlog up to the drop point', async () => {
    const runId = await createRun('deltas:4,drop:2,interval:1');
    await server.waitForRunStatus(runId, 'completed');
    const stream = await subscribe(runId);
    expect((await stream.done).complete).toBe(false);
    expect(types(stream)).toEqual(['message.delta', 'message.delta']);
  });

  it('forgets the run after the drop when asked (404 on status)', async () => {
    const runId = await createRun('drop-forget');
    const stream = await subscribe(runId);
    expect((await stream.done).complete).toBe(false);
    expect((await call('GET', `/v1/runs/${runId}`)).status).toBe(404);
    expect((await call('POST', `/v1/runs/${runId}/stop`)).status).toBe(404);
  });
});

describe('create failures', () => {
  it.each([
    ['create-500', 500],
    ['create:401', 401],
    ['create-429', 429],
    ['create-503', 503],
  ])('answers %s with %i and starts nothing', async (scenario, status) => {
    const answer = await call('POST', '/v1/runs', { input: 'x' }, { 'X-Fake-Scenario': scenario });
    expect(answer.status).toBe(status);
    expect((answer.body.error as Json).message).toEqual(expect.any(String));
    if (status === 429 || status === 503) expect(answer.headers.get('retry-after')).toBe('1');
    expect(server.runsCreated).toBe(0);
  });

  it('can be chosen by an input directive', async () => {
    const answer = await call('POST', '/v1/runs', { input: 'please fail [[create:500]]' });
    expect(answer.status).toBe(500);
  });

  it('answers 202 without run_id for missingRunId', async () => {
    const answer = await call(
      'POST',
      '/v1/runs',
      { input: 'x' },
      { 'X-Fake-Scenario': 'no-run-id' },
    );
    expect(answer.status).toBe(202);
    expect(answer.body).not.toHaveProperty('run_id');
    expect(server.runsCreated).toBe(0);
  });

  it.each([
    ['a missing input', { session_id: 's' }],
    ['an empty input', { input: '' }],
    ['a history entry without content', { input: 'x', conversation_history: [{ role: 'user' }] }],
    ['a history entry without role', { input: 'x', conversation_history: [{ content: 'y' }] }],
    ['a history that is not an array', { input: 'x', conversation_history: 'nope' }],
    ['a body that is not an object', [1, 2]],
  ])('answers 400 for %s', async (_what, body) => {
    const answer = await call('POST', '/v1/runs', body);
    expect(answer.status).toBe(400);
    expect((answer.body.error as Json).message).toEqual(expect.any(String));
  });

  it('answers 400 for a body that is not JSON, and accepts a valid history', async () => {
    expect((await call('POST', '/v1/runs', '{not json')).status).toBe(400);
    const ok = await call('POST', '/v1/runs', {
      input: 'x',
      conversation_history: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
      ],
    });
    expect(ok.status).toBe(202);
  });

  it('answers 400 for an invalid scenario header or directive', async () => {
    const header = await call(
      'POST',
      '/v1/runs',
      { input: 'x' },
      { 'X-Fake-Scenario': '{"deltas":-1}' },
    );
    expect(header.status).toBe(400);
    expect(errorCode(header)).toBe('invalid_fake_scenario');
    expect((await call('POST', '/v1/runs', { input: '[[deltas:abc]]' })).status).toBe(400);
    expect((await call('POST', '/v1/runs', { input: '[[nonsense]]' })).status).toBe(400);
    expect(server.runsCreated).toBe(0);
  });
});

describe('Idempotency-Key', () => {
  it('replays the same run for the same key and body, and 409s a different body', async () => {
    const key = 'gw-run-1';
    const first = await call(
      'POST',
      '/v1/runs',
      { input: 'hi', session_id: 's1' },
      { 'Idempotency-Key': key },
    );
    expect(first.status).toBe(202);
    expect(first.body.replayed).toBe(false);
    // Same JSON, other key order.
    const replay = await call(
      'POST',
      '/v1/runs',
      { session_id: 's1', input: 'hi' },
      { 'Idempotency-Key': key },
    );
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ run_id: first.body.run_id, status: 'started', replayed: true });
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect(server.runsCreated).toBe(1);

    const conflict = await call('POST', '/v1/runs', { input: 'other' }, { 'Idempotency-Key': key });
    expect(conflict.status).toBe(409);
    expect(server.runsCreated).toBe(1);
  });

  it('accepts 1-255 visible ASCII characters only', async () => {
    expect(
      (await call('POST', '/v1/runs', { input: 'x' }, { 'Idempotency-Key': 'a b' })).status,
    ).toBe(400);
    expect(
      (await call('POST', '/v1/runs', { input: 'x' }, { 'Idempotency-Key': 'k'.repeat(256) }))
        .status,
    ).toBe(400);
    expect(
      (await call('POST', '/v1/runs', { input: 'x' }, { 'Idempotency-Key': '~'.repeat(255) }))
        .status,
    ).toBe(202);
  });
});

describe('approvals', () => {
  it('waits on approval.request until /approval answers, then continues', async () => {
    const runId = await createRun('deltas:3,approval:1');
    const stream = await subscribe(runId);
    await stream.waitForEvent('approval.request');
    const request = events(stream).find((e) => e.event === 'approval.request');
    expect(request).toMatchObject({
      request_id: 'appr_fake_1',
      command: expect.any(String),
      description: expect.any(String),
      choices: ['once', 'session', 'always', 'deny'],
    });
    const status = await call('GET', `/v1/runs/${runId}`);
    expect(status.body).toMatchObject({
      status: 'waiting_for_approval',
      last_event: 'approval.request',
    });
    expect(server.getRun(runId)?.deltasEmitted).toBe(1);

    expect((await call('POST', `/v1/runs/${runId}/approval`, { choice: 'maybe' })).status).toBe(
      400,
    );
    const mismatch = await call('POST', `/v1/runs/${runId}/approval`, {
      choice: 'once',
      request_id: 'other',
    });
    expect(mismatch.status).toBe(409);
    const answer = await call('POST', `/v1/runs/${runId}/approval`, {
      choice: 'once',
      request_id: 'appr_fake_1',
    });
    expect(answer).toMatchObject({
      status: 200,
      body: { run_id: runId, choice: 'once', resolved: 1 },
    });

    await stream.done;
    expect(types(stream)).toEqual([
      'message.delta',
      'approval.request',
      'approval.responded',
      'message.delta',
      'message.delta',
      'run.completed',
    ]);
    expect(events(stream)[2]).toMatchObject({ choice: 'once', request_id: 'appr_fake_1' });
    const late = await call('POST', `/v1/runs/${runId}/approval`, { choice: 'once' });
    expect(late.status).toBe(409);
    expect(errorCode(late)).toBe('approval_not_pending');
  });
});

describe('keepalive and auth', () => {
  it('writes `: keepalive` comments after the configured silence', async () => {
    server.keepaliveMs = 20;
    const runId = await createRun('delay:60000');
    const stream = await subscribe(runId);
    await stream.waitFor(
      (items) => items.filter((i) => i.kind === 'comment' && i.text === 'keepalive').length >= 2,
    );
    expect(stream.dataItems()).toEqual([]);
    expect(stream.raw).toMatch(/^: keepalive\n\n: keepalive\n\n/);
    await call('POST', `/v1/runs/${runId}/stop`);
    await stream.done;
  });

  it('answers 401 without the right Bearer key (but not on /health)', async () => {
    server.apiKey = 'secret-key';
    const none = await call('POST', '/v1/runs', { input: 'x' });
    expect(none.status).toBe(401);
    expect(errorCode(none)).toBe('invalid_api_key');
    expect(
      (await call('POST', '/v1/runs', { input: 'x' }, { Authorization: 'Bearer wrong' })).status,
    ).toBe(401);
    const auth = { Authorization: 'Bearer secret-key' };
    const ok = await call('POST', '/v1/runs', { input: 'x' }, auth);
    expect(ok.status).toBe(202);
    const runId = ok.body.run_id as string;
    expect((await call('GET', `/v1/runs/${runId}`)).status).toBe(401);
    const refused = await subscribe(runId);
    expect(refused.status).toBe(401);
    await refused.done;
    const stream = await subscribe(runId, auth);
    expect(stream.status).toBe(200);
    await stream.done;
    expect((await call('GET', '/health')).status).toBe(200);
  });
});

describe('scenario selection and recording', () => {
  it('layers default < onCreate < next queued < header < input directive', async () => {
    server.onCreate = () => ({ deltas: 7 });
    server.setNextScenario('deltas:1');
    const fromHeader = await createRun('deltas:2');
    server.setNextScenario('deltas:1');
    const fromQueue = await createRun();
    const fromHook = await createRun();
    const fromDirective = await createRun('deltas:2', { input: 'x [[deltas:3]]' });
    for (const id of [fromHeader, fromQueue, fromHook, fromDirective])
      await server.waitForRunStatus(id, 'completed');
    expect(server.getRun(fromHeader)?.deltasEmitted).toBe(2);
    expect(server.getRun(fromQueue)?.deltasEmitted).toBe(1);
    expect(server.getRun(fromHook)?.deltasEmitted).toBe(7);
    expect(server.getRun(fromDirective)?.deltasEmitted).toBe(3);
  });

  it('records every request with its parsed body', async () => {
    const body = { input: 'recorded', session_id: 'eph_r' };
    const runId = await createRun(undefined, body);
    await call('GET', `/v1/runs/${runId}`);
    const creates = server.requestsTo('/v1/runs', 'POST');
    expect(creates).toHaveLength(1);
    expect(creates[0]).toMatchObject({ method: 'POST', path: '/v1/runs', body });
    expect(creates[0].headers['content-type']).toBe('application/json');
    expect(typeof creates[0].receivedAt).toBe('number');
    expect(server.requestsTo(`/v1/runs/${runId}`, 'GET')).toHaveLength(1);
    server.clearRequests();
    expect(server.requests).toEqual([]);
  });
});

describe('lifecycle and bounds', () => {
  it('stop() breaks open streams and closes the listener', async () => {
    const own = new FakeHermesServer();
    const url = await own.start();
    const created = await fetch(`${url}/v1/runs`, {
      method: 'POST',
      headers: { 'X-Fake-Scenario': 'delay:60000' },
      body: JSON.stringify({ input: 'x' }),
    });
    const { run_id: runId } = (await created.json()) as { run_id: string };
    const stream = await openSse(`${url}/v1/runs/${runId}/events`);
    expect(own.openStreams).toBe(1);
    await own.stop();
    expect((await stream.done).complete).toBe(false);
    expect(own.openStreams).toBe(0);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('forgets finished runs beyond maxRuns and after their TTL', async () => {
    const own = new FakeHermesServer({
      maxRuns: 2,
      finishedRunTtlMs: 60_000,
      defaultScenario: 'empty',
    });
    const url = await own.start();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/v1/runs`, {
          method: 'POST',
          body: JSON.stringify({ input: `r${i}` }),
        });
        ids.push(((await res.json()) as { run_id: string }).run_id);
        await own.waitForRunStatus(ids[i], 'completed');
      }
      expect(own.getRun(ids[0])).toBeUndefined();
      expect(own.listRuns().map((r) => r.id)).toEqual([ids[1], ids[2]]);
      own.sweep(Date.now() + 61_000);
      expect(own.listRuns()).toEqual([]);
    } finally {
      await own.stop();
    }
  });
});
