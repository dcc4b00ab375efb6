import type { Socket } from 'socket.io-client';
import { closeAll, connect, request, RunWatch } from '../lib/chat-socket';
import { FakeHermes, type Gateway } from '../lib/processes';
import { tokensPerTurn } from '../lib/seed';
import { startSeededGateway } from '../lib/seeded-gateway';
import { distribution, nowMs, round, roundDistribution, type Distribution } from '../lib/stats';
import {
  check,
  ms,
  signedMs,
  type BenchContext,
  type Scenario,
  type ScenarioOutcome,
} from '../lib/types';

interface CompressionSizes {
  turns: number[];
  sessionsPerSize: number;
}

const FULL: CompressionSizes = { turns: [1000, 5000], sessionsPerSize: 3 };
const QUICK: CompressionSizes = { turns: [100], sessionsPerSize: 1 };

const THRESHOLD = 0.5;
/** Marks our own runs on the fake; any other run created meanwhile is the summariser. */
const MAIN_MARKER = 'bench-compression-main';
const MAIN_INPUT = `${MAIN_MARKER} next question [[deltas:3,interval:5]]`;
/** The summariser answers at once: its own time is then only what the gateway waits on. */
const SUMMARISER_SCENARIO = 'deltas:1,interval:0';
const RUN_TIMEOUT_MS = 180_000;

export interface CompressedRun {
  sessionId: string;
  compressed: boolean;
  /** run → run.started, including compression. */
  toStartedMs: number;
  compressionStartedMs: number | null;
  compressionCompletedMs: number | null;
  /** Creation → end of the summariser run(s) on the fake (ms resolution). */
  summariserMs: number;
  /** toStartedMs − summariserMs. */
  gatewayMs: number;
  completed: Record<string, unknown> | null;
  /** The next run on the same session: it must not compress again. */
  nextRunToStartedMs: number;
  nextRunCompressed: boolean;
}

export interface CompressionPoint {
  turns: number;
  contextLength: number;
  historyTokens: number;
  baselineToStartedMs: Distribution;
  runs: CompressedRun[];
  /** Median of gatewayMs − baseline median: what crossing the threshold adds. */
  addedMs: number | null;
}

interface TimedRun {
  toStartedMs: number;
  compressionStartedMs: number | null;
  compressionCompletedMs: number | null;
  completed: Record<string, unknown> | null;
  startedAtWallMs: number;
}

/** One run: times (from sending `run`) of compression.started/completed and run.started. */
async function timedRun(socket: Socket, sessionId: string): Promise<TimedRun> {
  const watch = new RunWatch(socket, sessionId);
  try {
    const startedAtWallMs = nowMs();
    watch.start();
    await request(socket, 'run', { session_id: sessionId, input: MAIN_INPUT });
    const first = await watch.waitFor(['run.started', 'run.failed'], RUN_TIMEOUT_MS);
    if (first === 'run.failed') {
      throw new Error(
        `run on ${sessionId} failed: ${String(watch.payloads.get('run.failed')?.error)}`,
      );
    }
    await watch.waitFor(['run.completed', 'run.failed'], RUN_TIMEOUT_MS);
    return {
      toStartedMs: watch.at.get('run.started')!,
      compressionStartedMs: watch.at.get('compression.started') ?? null,
      compressionCompletedMs: watch.at.get('compression.completed') ?? null,
      completed: watch.payloads.get('compression.completed') ?? null,
      startedAtWallMs,
    };
  } finally {
    watch.close();
  }
}

/** The fake's runs created since `sinceWallMs` that are not ours: the summariser. */
async function summariserMs(
  fake: FakeHermes,
  sinceWallMs: number,
  untilWallMs: number,
): Promise<number> {
  const runs = await fake.runs();
  return runs
    .filter((r) => !r.input.includes(MAIN_MARKER))
    .filter((r) => r.createdAt * 1000 >= sinceWallMs - 1 && r.createdAt * 1000 <= untilWallMs + 1)
    .reduce((sum, r) => sum + Math.max(0, (r.updatedAt - r.createdAt) * 1000), 0);
}

async function measureSize(
  context: BenchContext,
  fake: FakeHermes,
  sizes: CompressionSizes,
  turns: number,
): Promise<CompressionPoint> {
  const historyTokens = turns * tokensPerTurn();
  // The stored history is ~80% of the context window: over the threshold (50%), under the limit.
  const contextLength = Math.max(1024, Math.round(historyTokens * 1.25));
  const ids = (kind: string) =>
    Array.from({ length: sizes.sessionsPerSize }, (_, i) => `${kind}-${turns}-${i}`);
  const seeds = [...ids('base'), ...ids('comp')].map((id) => ({ id, turns }));
  // Baseline: the same sessions' run start with a context so large that nothing compresses.
  let gateway: Gateway = await startSeededGateway(
    { dist: context.options.dist, hermesUrl: fake.url },
    seeds,
  );
  const baseline: number[] = [];
  const runs: CompressedRun[] = [];
  try {
    let socket = await connect(gateway.url, gateway.token);
    for (const id of ids('base')) baseline.push((await timedRun(socket, id)).toStartedMs);
    closeAll([socket]);
    gateway = await gateway.restart({
      env: {
        HERMES_CONTEXT_LENGTH: String(contextLength),
        COMPRESSION_THRESHOLD: String(THRESHOLD),
      },
    });
    socket = await connect(gateway.url, gateway.token);
    try {
      for (const id of ids('comp')) {
        const first = await timedRun(socket, id);
        const summariser = await summariserMs(
          fake,
          first.startedAtWallMs,
          first.startedAtWallMs + first.toStartedMs,
        );
        const next = await timedRun(socket, id);
        runs.push({
          sessionId: id,
          compressed: first.compressionStartedMs !== null,
          toStartedMs: round(first.toStartedMs),
          compressionStartedMs:
            first.compressionStartedMs === null ? null : round(first.compressionStartedMs),
          compressionCompletedMs:
            first.compressionCompletedMs === null ? null : round(first.compressionCompletedMs),
          summariserMs: round(summariser),
          gatewayMs: round(first.toStartedMs - summariser),
          completed: first.completed,
          nextRunToStartedMs: round(next.toStartedMs),
          nextRunCompressed: next.compressionStartedMs !== null,
        });
      }
    } finally {
      closeAll([socket]);
    }
  } finally {
    await gateway.stop();
  }
  const baselineDistribution = roundDistribution(distribution(baseline));
  const compressedRuns = runs.filter((r) => r.compressed);
  const addedMs = compressedRuns.length
    ? round(distribution(compressedRuns.map((r) => r.gatewayMs)).p50 - baselineDistribution.p50)
    : null;
  return {
    turns,
    contextLength,
    historyTokens,
    baselineToStartedMs: baselineDistribution,
    runs,
    addedMs,
  };
}

/** `beforeTokens → afterTokens` of `compression.completed`, and its error if it failed. */
function tokensChange(completed: Record<string, unknown> | null): string {
  if (!completed) return '–';
  const { beforeTokens, afterTokens, error } = completed;
  const change = `${String(beforeTokens)} → ${String(afterTokens)}`;
  return typeof error === 'string' && error ? `${change} (error: ${error})` : change;
}

export const compressionScenario: Scenario = {
  name: 'compression',
  title: 'Compression: what the gateway adds to a run that crosses the threshold',
  async run(context: BenchContext): Promise<ScenarioOutcome> {
    const sizes = context.options.quick ? QUICK : FULL;
    const fake = await FakeHermes.start({ defaultScenario: SUMMARISER_SCENARIO });
    const points: CompressionPoint[] = [];
    try {
      for (const turns of sizes.turns) {
        const p = await measureSize(context, fake, sizes, turns);
        points.push(p);
        context.log(
          p.addedMs === null
            ? `  ${turns} turns: no compression events (not available in this build)`
            : `  ${turns} turns: gateway time ${p.runs.map((r) => r.gatewayMs).join(', ')} ms vs baseline p50 ${p.baselineToStartedMs.p50} ms (${signedMs(p.addedMs)})`,
        );
      }
    } finally {
      await fake.stop();
    }
    const available = points.some((p) => p.addedMs !== null);
    const median = (values: number[]) => (values.length ? distribution(values).p50 : NaN);
    return {
      figures: { sizes, threshold: THRESHOLD, available, points },
      checks: points.map((p) =>
        check(
          `compression at ${p.turns.toLocaleString('en-US')} turns: cost the gateway adds (no target; reported)`,
          p.addedMs === null
            ? 'not available (no compression events)'
            : `${ms(median(p.runs.map((r) => r.gatewayMs)))} run start incl. compression, less the summariser, vs ${ms(p.baselineToStartedMs.p50)} without (${signedMs(p.addedMs)})`,
          null,
        ),
      ),
      tables: [
        {
          title:
            'Compression: run → run.started on a session over the threshold, less the summariser upstream time',
          columns: [
            'prior turns',
            'history tokens',
            'context length',
            'baseline run start p50',
            'compressed',
            'run → run.started',
            'summariser (fake)',
            'gateway share',
            'added by compression',
            'compression.started → completed',
            'tokens before → after',
            'next run start (recompressed?)',
          ],
          rows: points.flatMap((p) =>
            p.runs.length === 0
              ? [
                  [
                    p.turns,
                    p.historyTokens,
                    p.contextLength,
                    ms(p.baselineToStartedMs.p50),
                    'n/a',
                    '–',
                    '–',
                    '–',
                    '–',
                    '–',
                    '–',
                  ],
                ]
              : p.runs.map((r) => [
                  p.turns,
                  p.historyTokens,
                  p.contextLength,
                  ms(p.baselineToStartedMs.p50),
                  r.compressed ? 'yes' : 'no (not available)',
                  ms(r.toStartedMs),
                  ms(r.summariserMs),
                  ms(r.gatewayMs),
                  r.compressed ? signedMs(r.gatewayMs - p.baselineToStartedMs.p50) : '–',
                  r.compressionStartedMs !== null && r.compressionCompletedMs !== null
                    ? ms(r.compressionCompletedMs - r.compressionStartedMs)
                    : '–',
                  tokensChange(r.completed),
                  `${ms(r.nextRunToStartedMs)} (${r.nextRunCompressed ? 'yes' : 'no'})`,
                ]),
          ),
          note:
            `Context length set so the stored history is ~80% of it (threshold ${THRESHOLD}). The summariser is a run on the same fake ` +
            `that answers at once (\`${SUMMARISER_SCENARIO}\`); its time on the fake (creation → end) is subtracted. ` +
            'Baseline: the first run on twin sessions of the same database, on a server whose context is too large to compress (the compressed runs are first runs too). ' +
            '"Added by compression" can be negative: once compressed, the upstream request carries the summary and the kept tail instead of the whole history. ' +
            'The first compression after the server started includes one-time costs (the first summariser request, code paths not yet optimised).',
        },
      ],
    };
  },
};
