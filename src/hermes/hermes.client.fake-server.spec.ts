import { Logger } from '@nestjs/common';
import { firstValueFrom, lastValueFrom, Observable, toArray } from 'rxjs';
import { FakeHermesServer, ScenarioSource } from '../../test/fake-hermes/fake-hermes.server';
import { AppConfig, HermesDefaults } from '../config/app-config';
import { HermesClient, HermesRunCreated } from './hermes.client';
import { HermesRunEvent } from './hermes-events';
import { HermesProfiles } from './hermes-profiles';
import {
  HermesHttpError,
  HermesProtocolError,
  HermesStreamIdleError,
  HermesStreamLostError,
  HermesTimeoutError,
} from './hermes.errors';

const API_KEY = 'fake-upstream-key';

function clientFor(url: string, overrides: Partial<HermesDefaults> = {}): HermesClient {
  const hermes: HermesDefaults = {
    url,
    apiKey: API_KEY,
    contextLength: 128000,
    requestTimeoutMs: 3000,
    streamIdleTimeoutMs: 3000,
    ...overrides,
  };
  const config = { hermes } as AppConfig;
  return new HermesClient(new HermesProfiles(config), config);
}

const all = (events$: Observable<HermesRunEvent>): Promise<HermesRunEvent[]> =>
  lastValueFrom(events$.pipe(toArray()));

const text = (events: HermesRunEvent[]): string =>
  events.map((e) => (e.type === 'message.delta' ? e.payload.delta : '')).join('');

describe('HermesClient against the fake Hermes server (real HTTP)', () => {
  let fake: FakeHermesServer;
  let client: HermesClient;
  let keyCounter = 0;
  const key = (): string => `gw-test-${++keyCounter}`;

  const start = async (scenario: ScenarioSource, input = 'hello'): Promise<HermesRunCreated> => {
    fake.setNextScenario(scenario);
    return client.createRun('default', { input }, key());
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    fake = new FakeHermesServer({ apiKey: API_KEY, keepaliveMs: 30_000 });
    await fake.start();
  });
  beforeEach(() => {
    fake.reset();
    fake.keepaliveMs = 30_000;
    client = clientFor(fake.url);
  });
  afterAll(() => fake.stop());

  it('creates a run and streams it to run.completed with usage', async () => {
    const run = await start({ preset: ['full', 'usage'], intervalMs: 1 });
    expect(run).toMatchObject({ status: 'started', replayed: false });
    expect(run.runId).toMatch(/^run_[0-9a-f]+$/);

    const events = await all(client.runEvents('default', run.runId));
    const last = events[events.length - 1];
    expect(last.type).toBe('run.completed');
    expect(last.type === 'run.completed' && last.payload.usage).toMatchObject({
      input_tokens: 1200,
      output_tokens: 345,
      total_tokens: 1545,
      cache_read_tokens: 800,
    });
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      'other',
      'reasoning.delta',
      'tool.started',
      'tool.completed',
      'message.delta',
    ]) {
      expect(types).toContain(type);
    }
    expect(text(events)).toContain(fake.getRun(run.runId)?.expectedText.slice(0, 10));
    expect(events.every((e) => e.payload.run_id === run.runId)).toBe(true);
    expect(fake.requestsTo(`/v1/runs/${run.runId}/events`)[0].headers['authorization']).toBe(
      `Bearer ${API_KEY}`,
    );

    const status = await client.getRun('default', run.runId);
    expect(status).toMatchObject({ run_id: run.runId, status: 'completed' });
    expect(status?.usage).toMatchObject({ input_tokens: 1200 });
  });

  it('replays a retried create with the same idempotency key instead of starting a second run', async () => {
    const request = { input: 'once only', session_id: 'eph_test' };
    const first = await client.createRun('default', request, 'gw-run-42');
    const retried = await client.createRun('default', request, 'gw-run-42');
    expect(retried).toEqual({ runId: first.runId, status: 'started', replayed: true });
    expect(fake.runsCreated).toBe(1);

    const conflict = await client
      .createRun('default', { input: 'something else' }, 'gw-run-42')
      .catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(HermesHttpError);
    expect(conflict).toMatchObject({ status: 409 });
  });

  it('retries a create whose answer was too slow without starting two runs', async () => {
    const impatient = clientFor(fake.url, { requestTimeoutMs: 150 });
    fake.setNextScenario({ createDelayMs: 400 });
    const created = await impatient.createRun('default', { input: 'slow' }, 'gw-slow-1', {
      attempts: 3,
    });
    expect(fake.runsCreated).toBe(1);
    expect(fake.getRun(created.runId)).toBeDefined();
  });

  it('maps create failures to typed errors', async () => {
    await expect(start('create-503')).rejects.toMatchObject({ status: 503 });
    await expect(start('create-429')).rejects.toBeInstanceOf(HermesHttpError);
    await expect(start('no-run-id')).rejects.toBeInstanceOf(HermesProtocolError);
    await expect(client.createRun('default', { input: '' }, key())).rejects.toMatchObject({
      status: 400,
    });
    const impatient = clientFor(fake.url, { requestTimeoutMs: 100 });
    fake.setNextScenario({ createDelayMs: 300 });
    await expect(impatient.createRun('default', { input: 'x' }, key())).rejects.toBeInstanceOf(
      HermesTimeoutError,
    );
  });

  it('is refused (401) with a wrong key, on requests and on the stream', async () => {
    const run = await start({ deltas: 1 });
    const wrong = clientFor(fake.url, { apiKey: 'wrong' });
    await expect(wrong.createRun('default', { input: 'x' }, key())).rejects.toMatchObject({
      status: 401,
    });
    const error = await all(wrong.runEvents('default', run.runId)).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'http_error', status: 401 });
    expect(await wrong.health('default')).toMatchObject({ status: 'up' }); // /health needs no key
  });

  it('skips garbage lines and counts them', async () => {
    const run = await start({ preset: 'garbage', intervalMs: 1 });
    const events = await all(client.runEvents('default', run.runId));
    expect(events[events.length - 1].type).toBe('run.completed');
    expect(client.streamStats.skippedLines).toBe(3);
  });

  it('completes on run.failed', async () => {
    const run = await start({ preset: 'fail', intervalMs: 1 });
    const events = await all(client.runEvents('default', run.runId));
    const last = events[events.length - 1];
    expect(last.type === 'run.failed' && last.payload.error).toBe(
      'fake-hermes: model provider error',
    );
  });

  it('errors with stream lost when the connection drops, and getRun still knows the run', async () => {
    const run = await start({ preset: 'drop', intervalMs: 30 });
    const error = await all(client.runEvents('default', run.runId)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HermesStreamLostError);
    expect(error).toMatchObject({ reason: 'connection_error' });
    // The socket is destroyed right after the second delta is written, which may not arrive.
    expect((error as HermesStreamLostError).eventsSeen).toBeGreaterThanOrEqual(1);
    await fake.waitForRunStatus(run.runId, 'completed');
    expect(await client.getRun('default', run.runId)).toMatchObject({ status: 'completed' });
  });

  it('gets 404 (stream lost, not_found) for a second subscriber, and no reconnect', async () => {
    const run = await start({ deltas: 3, intervalMs: 50 });
    const first = client.runEvents('default', run.runId).subscribe();
    await fake.waitFor(() => fake.openStreams === 1);
    const error = await all(client.runEvents('default', run.runId)).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'not_found', status: 404 });
    expect(fake.requestsTo(`/v1/runs/${run.runId}/events`)).toHaveLength(2);
    first.unsubscribe();
  });

  it('closes the upstream stream when the subscriber unsubscribes', async () => {
    const run = await start({ deltas: 50, intervalMs: 20 });
    const firstDelta = await firstValueFrom(client.runEvents('default', run.runId));
    expect(firstDelta.type).toBe('message.delta');
    await fake.waitFor(() => fake.getRun(run.runId)?.stream === 'closed', 2000, 'stream closed');
    expect(fake.openStreams).toBe(0);
  });

  it('stops a run: stopping, then run.cancelled ends the stream; later stops are outcomes', async () => {
    const run = await start({ deltas: 100, intervalMs: 20, stopDelayMs: 30 });
    const events$ = all(client.runEvents('default', run.runId));
    await fake.waitFor(() => (fake.getRun(run.runId)?.deltasEmitted ?? 0) >= 1);
    expect(await client.stopRun('default', run.runId)).toEqual({ outcome: 'stopping' });
    const events = await events$;
    expect(events[events.length - 1].type).toBe('run.cancelled');
    expect(await client.stopRun('default', run.runId)).toMatchObject({
      outcome: 'finished',
      run: { status: 'cancelled' },
    });
    expect(await client.stopRun('default', 'run_unknown')).toEqual({ outcome: 'unknown_run' });
    expect(await client.getRun('default', 'run_unknown')).toBeNull();
  });

  it('reports a run interrupted by an upstream restart as not active', async () => {
    const run = await start({ deltas: 100, intervalMs: 20 });
    const events$ = all(client.runEvents('default', run.runId));
    await fake.waitFor(() => fake.openStreams === 1);
    fake.simulateRestart();
    await expect(events$).rejects.toBeInstanceOf(HermesStreamLostError);
    expect(await client.stopRun('default', run.runId)).toEqual({ outcome: 'not_active' });
    expect(await client.getRun('default', run.runId)).toMatchObject({ status: 'interrupted' });
  });

  it('answers an approval request and the run goes on', async () => {
    const run = await start({ approval: 1, deltas: 2, intervalMs: 1 });
    const seen: HermesRunEvent[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.runEvents('default', run.runId).subscribe({
        next: (event) => {
          seen.push(event);
          if (event.type === 'approval.request') {
            client
              .respondToApproval('default', run.runId, 'once', event.payload.request_id)
              .catch(reject);
          }
        },
        error: reject,
        complete: resolve,
      });
    });
    await done;
    const types = seen.map((e) => (e.type === 'other' ? e.payload.event : e.type));
    expect(types).toContain('approval.request');
    expect(types.indexOf('approval.responded')).toBeGreaterThan(types.indexOf('approval.request'));
    expect(types[types.length - 1]).toBe('run.completed');
  });

  describe('idle timeout', () => {
    it('errors when the stream stays silent', async () => {
      const impatient = clientFor(fake.url, { streamIdleTimeoutMs: 150 });
      fake.setNextScenario({ deltas: 1, delayBeforeFirstEventMs: 2000 });
      const run = await impatient.createRun('default', { input: 'x' }, key());
      const error = await all(impatient.runEvents('default', run.runId)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HermesStreamIdleError);
      await fake.waitFor(() => fake.openStreams === 0, 2000, 'the stream to close');
    });

    it('counts keepalive comments as activity', async () => {
      fake.keepaliveMs = 40;
      const patient = clientFor(fake.url, { streamIdleTimeoutMs: 200 });
      fake.setNextScenario({ deltas: 1, delayBeforeFirstEventMs: 600 });
      const run = await patient.createRun('default', { input: 'x' }, key());
      const events = await all(patient.runEvents('default', run.runId));
      expect(events.map((e) => e.type)).toEqual(['message.delta', 'run.completed']);
    });
  });

  it('reports health up, and down once the upstream is gone', async () => {
    expect(await client.health('default')).toMatchObject({ status: 'up', url: fake.url });
    const other = new FakeHermesServer();
    const url = await other.start();
    await other.stop();
    expect(await clientFor(url).health('default')).toMatchObject({ status: 'down' });
  });
});
