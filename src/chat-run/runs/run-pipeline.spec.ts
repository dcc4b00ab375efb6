import { of } from 'rxjs';
import { LeaseLostError } from '../../cluster/session-leases';
import type { HermesRunEvent } from '../../hermes/hermes-events';
import type { HermesClient } from '../../hermes/hermes.client';
import { MetricsRegistry } from '../../metrics/metrics.registry';
import type { ContextEstimate } from '../../sessions/session.types';
import type { SessionRuntimes } from '../runtime/session-runtimes';
import type { SessionEmitter } from '../session-emitter';
import type { RunTranscript } from '../transcript/transcript.reducer';
import type { RunAudience } from './run-audience';
import { RunMetrics } from './run-metrics';
import { RunPipeline } from './run-pipeline';
import { UnrecordedRun } from './run-recorder';
import type { RunStatusFollower } from './run-status-follower';

const RUN = 'run_up_1';
const at = 1_800_000_000;

/** An upstream that creates the run and streams one delta, then `run.completed`. */
function upstream(): HermesClient {
  const events: HermesRunEvent[] = [
    {
      type: 'message.delta',
      payload: { event: 'message.delta', run_id: RUN, timestamp: at, delta: 'hello' },
    },
    {
      type: 'run.completed',
      payload: { event: 'run.completed', run_id: RUN, timestamp: at, output: 'hello' },
    },
  ];
  return {
    createRun: () => Promise.resolve({ runId: RUN, status: 'started', replayed: false }),
    runEvents: () => of(...events),
    stopRun: () => Promise.resolve({ outcome: 'not_active' }),
  } as unknown as HermesClient;
}

/** What the run's audience heard, in order. */
class HeardAudience implements RunAudience {
  readonly heard: { event: string; payload: unknown }[] = [];
  emit(event: string, payload: unknown): void {
    this.heard.push({ event, payload });
  }
  forward(event: HermesRunEvent): void {
    this.heard.push({ event: event.payload.event, payload: event.payload });
  }
  state(): void {}
  names(): string[] {
    return this.heard.map((entry) => entry.event);
  }
}

/** A recorder whose final write is decided by the test. */
class ScriptedRecorder extends UnrecordedRun {
  readonly calls: string[] = [];
  constructor(
    private readonly settleWith: (delayed: () => void) => Promise<ContextEstimate | null>,
  ) {
    super();
  }
  // Optional parameters: the base class's settle takes none.
  override settle(
    _transcript?: RunTranscript,
    _outcome?: unknown,
    delayed: () => void = () => undefined,
  ): Promise<ContextEstimate | null> {
    this.calls.push('settle');
    return this.settleWith(delayed).finally(() => this.calls.push('settled'));
  }
  override release(): void {
    this.calls.push('release');
  }
  override after(): void {
    this.calls.push('after');
  }
}

function pipeline(recorder: ScriptedRecorder, audience: HeardAudience) {
  const metrics = new MetricsRegistry();
  const noSessions = { all: () => [].values(), size: 0 } as unknown as SessionRuntimes;
  const noSockets = { connections: 0 } as unknown as SessionEmitter;
  const runMetrics = new RunMetrics(metrics, noSessions, noSockets);
  const run = new RunPipeline(
    {
      id: 'gw_1',
      profile: 'default',
      input: 'hi',
      model: null,
      instructions: '',
      upstreamSession: null,
      startedAt: Date.now() / 1000,
      upstreamRunId: null,
      transcript: null,
    },
    {
      hermes: upstream(),
      follower: {} as RunStatusFollower,
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      abortGraceMs: 1000,
      maxDurationMs: 60_000,
      metrics: runMetrics,
    },
    recorder,
    audience,
  );
  return { run, metrics };
}

describe('RunPipeline: the end of a run', () => {
  it('sends the terminal event after the end is stored, then releases the session', async () => {
    const audience = new HeardAudience();
    const recorder = new ScriptedRecorder(() =>
      Promise.resolve({ inputTokens: 3, outputTokens: 2 }),
    );
    const { run } = pipeline(recorder, audience);
    expect(await run.run()).toMatchObject({ kind: 'completed' });
    expect(audience.names()).toEqual([
      'run.started',
      'message.delta',
      'usage.updated',
      'run.completed',
    ]);
    expect(audience.heard.at(-1)?.payload).toMatchObject({
      run_id: RUN,
      gateway_run_id: 'gw_1',
      output: 'hello',
    });
    expect(recorder.calls).toEqual(['settle', 'settled', 'release', 'after']);
  });

  it('announces storage_error once while the write goes on, and releases only once it is stored', async () => {
    const audience = new HeardAudience();
    let store!: () => void;
    const stored = new Promise<void>((resolve) => (store = resolve));
    const recorder = new ScriptedRecorder(async (delayed) => {
      delayed();
      delayed();
      await stored;
      return null;
    });
    const { run, metrics } = pipeline(recorder, audience);
    const ended = run.run();
    await new Promise((resolve) => setImmediate(resolve));
    expect(audience.names()).toEqual(['run.started', 'message.delta', 'run.failed']);
    expect(audience.heard.at(-1)?.payload).toMatchObject({
      code: 'storage_error',
      gateway_run_id: 'gw_1',
    });
    // The session stays held: the queue must not start before this run's end is written.
    expect(recorder.calls).toEqual(['settle']);

    store();
    expect(await ended).toMatchObject({ kind: 'failed', code: 'storage_error' });
    expect(audience.names()).toEqual(['run.started', 'message.delta', 'run.failed']);
    expect(recorder.calls).toEqual(['settle', 'settled', 'release', 'after']);
    const text = await metrics.render();
    expect(text).toMatch(
      /hermes_gateway_runs_finished_total\{outcome="failed",code="storage_error"\} 1/,
    );
    expect(text).toMatch(/hermes_gateway_runs_active 0/);
  });

  it('ends quietly when another instance took the session over', async () => {
    const audience = new HeardAudience();
    const recorder = new ScriptedRecorder(() => Promise.reject(new LeaseLostError('s1')));
    const { run } = pipeline(recorder, audience);
    expect(await run.run()).toEqual({ kind: 'detached' });
    expect(audience.names()).toEqual(['run.started', 'message.delta']);
    expect(recorder.calls).toEqual(['settle', 'settled', 'release']);
  });
});
