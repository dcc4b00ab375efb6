import request from 'supertest';
import { FakeHermesServer } from '../fake-hermes';
import { OpenClients } from './support/chat-client';
import { destroyTestApp, startTestApp, TestApp } from './support/test-app';

/** The value of one sample of a Prometheus text exposition (undefined when absent). */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = new Map(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (wanted.every(([key, value]) => found.get(key) === value)) return Number(match[3]);
  }
  return undefined;
}

describe('/metrics (e2e)', () => {
  const apps: TestApp[] = [];
  const clients = new OpenClients();
  let hermes: FakeHermesServer;
  let hermesUrl: string;

  beforeEach(async () => {
    hermes = new FakeHermesServer();
    hermesUrl = await hermes.start();
  });

  afterEach(async () => {
    clients.closeAll();
    for (const app of apps.splice(0)) {
      await app.close();
      await destroyTestApp(app);
    }
    await hermes.stop();
  });

  const start = async (env: Record<string, string> = {}) => {
    const app = await startTestApp({ env: { HERMES_URL: hermesUrl, ...env } });
    apps.push(app);
    return app;
  };

  const scrape = async (app: TestApp): Promise<string> => {
    const res = await request(app.url).get('/metrics').set(app.auth).expect(200);
    // Prometheus' text format, version 0.0.4 (parameter order is free).
    expect(res.headers['content-type']).toMatch(/^text\/plain;.*\bversion=0\.0\.4\b/);
    return res.text;
  };

  it('counts runs by outcome and code, deltas, first-delta and relay latency, queues, commits and upstream errors', async () => {
    const app = await start();
    const client = await clients.connect(app.url, { token: app.token });

    hermes.setNextScenario({ deltas: 40, intervalMs: 20 }, { deltas: 3 }, { createStatus: 500 });
    await client.request('run', { session_id: 'm', input: 'long one' });
    await client.request('run', { session_id: 'm', input: 'queued' });
    await client.waitFor('message.delta', (e) => e.session_id === 'm');
    const during = await scrape(app);
    expect(sample(during, 'hermes_gateway_runs_active')).toBe(1);
    expect(sample(during, 'hermes_gateway_runs_queued')).toBe(1);
    expect(sample(during, 'hermes_gateway_sessions_queueing')).toBe(1);
    expect(sample(during, 'hermes_gateway_socket_connections')).toBe(1);

    await client.waitFor('run.completed', (e) => e.queue_remaining === 0, 15_000);
    await client.request('run', { session_id: 'm', input: 'the upstream refuses this one' });
    await client.waitFor('run.failed', (e) => e.session_id === 'm');

    const after = await scrape(app);
    expect(sample(after, 'hermes_gateway_runs_started_total')).toBe(3);
    expect(
      sample(after, 'hermes_gateway_runs_finished_total', { outcome: 'completed', code: '' }),
    ).toBe(2);
    expect(
      sample(after, 'hermes_gateway_runs_finished_total', {
        outcome: 'failed',
        code: 'upstream_error',
      }),
    ).toBe(1);
    expect(sample(after, 'hermes_gateway_runs_active')).toBe(0);
    expect(sample(after, 'hermes_gateway_runs_queued')).toBe(0);
    expect(sample(after, 'hermes_gateway_deltas_relayed_total')).toBe(43);
    expect(sample(after, 'hermes_gateway_events_relayed_total')).toBeGreaterThanOrEqual(43);
    expect(sample(after, 'hermes_gateway_first_delta_seconds_count')).toBe(2);
    expect(sample(after, 'hermes_gateway_relay_latency_seconds_count')).toBe(43);
    // Upstream and gateway share a clock here: every delta is relayed within a second.
    expect(sample(after, 'hermes_gateway_relay_latency_seconds_bucket', { le: '1' })).toBe(43);
    expect(
      sample(after, 'hermes_gateway_upstream_errors_total', {
        operation: 'create run',
        code: 'hermes_http_error',
      }),
    ).toBe(1);
    expect(
      sample(after, 'hermes_gateway_db_commit_seconds_count', { result: 'ok' }),
    ).toBeGreaterThan(0);
    expect(sample(after, 'hermes_gateway_db_writes_total')).toBeGreaterThan(0);
    expect(sample(after, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('asks for the API token by default, and is outside /api', async () => {
    const app = await start();
    await request(app.url).get('/metrics').expect(401);
    const wrong = await request(app.url)
      .get('/metrics')
      .set('Authorization', 'Bearer not-the-token')
      .expect(401);
    expect(wrong.body.code).toBe('unauthorized');
    await request(app.url).get('/api/metrics').set(app.auth).expect(404);
    await scrape(app);
  });

  it('takes only METRICS_TOKEN when it is set', async () => {
    const app = await start({ METRICS_TOKEN: 'scraper-secret-0123456789' });
    await request(app.url).get('/metrics').set(app.auth).expect(401);
    await request(app.url)
      .get('/metrics')
      .set('Authorization', 'Bearer scraper-secret-0123456789')
      .expect(200);
  });

  it('METRICS=public asks nothing; METRICS=off answers 404', async () => {
    const open = await start({ METRICS: 'public' });
    await request(open.url).get('/metrics').expect(200);
    const off = await start({ METRICS: 'off' });
    const res = await request(off.url).get('/metrics').set(off.auth).expect(404);
    expect(res.body.code).toBe('not_found');
  });
});
