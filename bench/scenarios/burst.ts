/**
 * Burst: S sessions send `run` within one 20 ms window, no ramp — a crowd pressing Enter at
 * once. (a) short runs (2 deltas) isolate the cost of starting a run; (b) long runs (200 × 20 B at
 * 20 ms) add the relay of every delta on top. Side by side with the floor: the same client
 * process creating the same runs on the fake and reading their SSE directly, in the same burst.
 */
import type { Socket } from 'socket.io-client';
import { closeAll, connectMany, type ServerEvent } from '../lib/chat-socket';
import { FakeHermes, Gateway } from '../lib/processes';
import { waitForQuietMachine } from '../lib/proc-stats';
import { profileArgs, profileTables, summariseProfile, type ProfileSummary } from '../lib/profile';
import { createUpstreamRun, readUpstreamRun } from '../lib/sse-floor';
import { nowMs, round, roundDistribution, Samples, type Distribution } from '../lib/stats';
import { StreamTracker, type StreamState } from '../lib/stream-tracker';
import {
  check,
  ms,
  type BenchContext,
  type Check,
  type Scenario,
  type ScenarioOutcome,
  type Table,
} from '../lib/types';
import { warmUp } from '../lib/warm-up';
import { WindowMeters, withTimeout, type WindowCpu } from '../lib/window-meters';

type BurstKind = 'short' | 'long';
type BurstMode = 'gateway' | 'floor';

interface BurstSizes {
  sessions: number[];
  /** Every `run` of a burst is sent within this window. */
  windowMs: number;
  deltas: Record<BurstKind, number>;
  intervalMs: number;
}

const FULL: BurstSizes = {
  sessions: [200, 500],
  windowMs: 20,
  deltas: { short: 2, long: 200 },
  intervalMs: 20,
};

const QUICK: BurstSizes = {
  sessions: [5, 20],
  windowMs: 20,
  deltas: { short: 2, long: 20 },
  intervalMs: 20,
};

/** ~20 bytes per delta, its index first (order and loss are checked on the content). */
const DELTA_TEXT = '{i}:lorem-ipsum-dolor';

export interface BurstPoint {
  mode: BurstMode;
  kind: BurstKind;
  sessions: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  orderViolations: number;
  seqRegressions: number;
  failedRuns: number;
  /** `run` sent → `run.started` received (floor: `POST /v1/runs` answered). */
  startedMs: Distribution;
  /** `run` sent → first `message.delta` received. */
  firstDeltaMs: Distribution;
  /** Relay latency (the fake's `sent_at` → receipt) of every delta after each stream's first. */
  steadyMs: Distribution;
  serverCpuS: number | null;
  /** Server CPU of the whole window divided by the runs (start, relay and end of each). */
  serverCpuPerRunMs: number | null;
  serverCpuPer1kDeltas: number | null;
  clientCpuPer1kDeltas: number;
  fakeCpuS: number;
  otherCpuS: number;
  machineQuietBefore: boolean;
  windowS: number;
}

/** What one reader (a socket, or the floor's SSE stream) saw of its run. */
class RunTimes {
  sentAt = 0;
  startedAt: number | undefined;
  firstDeltaAt: number | undefined;
}

/** The timings of every run of one burst, and the delta bookkeeping. */
class BurstTracker {
  readonly tracker: StreamTracker;
  readonly steady = new Samples();
  readonly runs: RunTimes[] = [];
  failedRuns = 0;

  constructor(deltas: number) {
    this.tracker = new StreamTracker(deltas);
  }

  open(): { times: RunTimes; state: StreamState } {
    const times = new RunTimes();
    this.runs.push(times);
    return { times, state: this.tracker.open() };
  }

  delta(run: { times: RunTimes; state: StreamState }, payload: ServerEvent): void {
    const receivedAt = nowMs();
    if (run.times.firstDeltaAt === undefined) run.times.firstDeltaAt = receivedAt;
    else if (typeof payload.sent_at === 'number') this.steady.add(receivedAt - payload.sent_at);
    this.tracker.delta(run.state, payload.delta, payload.sent_at, payload.seq);
  }

  end(run: { state: StreamState }, failed: boolean): void {
    if (failed) this.failedRuns++;
    this.tracker.complete(run.state);
  }

  distribution(pick: (times: RunTimes) => number | undefined): Distribution {
    const samples = new Samples();
    for (const times of this.runs) {
      const at = pick(times);
      if (at !== undefined) samples.add(at - times.sentAt);
    }
    return roundDistribution(samples.summary());
  }
}

function runInput(sizes: BurstSizes, kind: BurstKind): string {
  return `bench burst [[deltas:${sizes.deltas[kind]},interval:${sizes.intervalMs},text:${DELTA_TEXT}]]`;
}

/** Calls `send(i)` for i in [0, count), spread evenly over `windowMs` from now. */
function fireBurst(count: number, windowMs: number, send: (i: number) => void): void {
  const start = Date.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * windowMs) / count;
    setTimeout(() => send(i), Math.max(0, due - Date.now()));
  }
}

function point(
  mode: BurstMode,
  kind: BurstKind,
  sessions: number,
  burst: BurstTracker,
  cpu: WindowCpu,
): BurstPoint {
  const totals = burst.tracker.totals();
  const per1k = (seconds: number): number =>
    totals.delivered > 0 ? round((seconds * 1000 * 1000) / totals.delivered, 2) : NaN;
  return {
    mode,
    kind,
    sessions,
    expected: totals.expected,
    delivered: totals.delivered,
    lost: totals.lost,
    duplicates: totals.duplicates,
    orderViolations: totals.outOfOrder,
    seqRegressions: totals.seqRegressions,
    failedRuns: burst.failedRuns,
    startedMs: burst.distribution((t) => t.startedAt),
    firstDeltaMs: burst.distribution((t) => t.firstDeltaAt),
    steadyMs: roundDistribution(burst.steady.summary()),
    serverCpuS: cpu.server === null ? null : round(cpu.server),
    serverCpuPerRunMs: cpu.server === null ? null : round((cpu.server * 1000) / sessions, 2),
    serverCpuPer1kDeltas: cpu.server === null ? null : per1k(cpu.server),
    clientCpuPer1kDeltas: per1k(cpu.client),
    fakeCpuS: round(cpu.fake),
    otherCpuS: round(Math.max(0, cpu.machine - (cpu.server ?? 0) - cpu.client - cpu.fake), 2),
    machineQuietBefore: cpu.quiet,
    windowS: round(cpu.windowS),
  };
}

function budgetMs(sizes: BurstSizes, kind: BurstKind, sessions: number): number {
  return sizes.deltas[kind] * sizes.intervalMs + sessions * 100 + 60_000;
}

async function measureGateway(
  context: BenchContext,
  fake: FakeHermes,
  sizes: BurstSizes,
  kind: BurstKind,
  sessions: number,
  profileDir: string | null,
): Promise<{ point: BurstPoint; profile?: ProfileSummary }> {
  const gateway = await Gateway.start({
    dist: context.options.dist,
    hermesUrl: fake.url,
    nodeArgs: profileDir ? profileArgs(profileDir) : [],
  });
  let sockets: Socket[] = [];
  try {
    await warmUp(gateway);
    sockets = await connectMany(gateway.url, gateway.token, sessions);
    const { quiet } = await waitForQuietMachine(context);
    const burst = new BurstTracker(sizes.deltas[kind]);
    const runs = sockets.map((socket) => {
      const run = burst.open();
      socket.on('run.started', () => (run.times.startedAt ??= nowMs()));
      socket.on('message.delta', (payload: ServerEvent) => burst.delta(run, payload));
      socket.on('run.completed', () => burst.end(run, false));
      socket.on('run.failed', () => burst.end(run, true));
      return run;
    });
    const prefix = `burst-${kind}-${sessions}-${Date.now()}`;
    const input = runInput(sizes, kind);
    const meters = new WindowMeters(fake.pid, gateway.pid, quiet);
    const began = Date.now();
    fireBurst(sessions, sizes.windowMs, (i) => {
      runs[i].times.sentAt = nowMs();
      sockets[i].emit('run', { session_id: `${prefix}-${i}`, input, queue_id: `q-${i}` });
    });
    await withTimeout(
      burst.tracker.allCompleted,
      budgetMs(sizes, kind, sessions),
      `burst ${kind} ${sessions} (gateway)`,
    );
    const cpu = meters.read();
    const window = { fromMs: began - gateway.spawnedAtMs, toMs: Date.now() - gateway.spawnedAtMs };
    closeAll(sockets);
    await gateway.stop();
    return {
      point: point('gateway', kind, sessions, burst, cpu),
      ...(profileDir ? { profile: summariseProfile(profileDir, window) } : {}),
    };
  } finally {
    closeAll(sockets);
    await gateway.stop();
  }
}

async function measureFloor(
  context: BenchContext,
  fake: FakeHermes,
  sizes: BurstSizes,
  kind: BurstKind,
  sessions: number,
): Promise<BurstPoint> {
  const { quiet } = await waitForQuietMachine(context);
  const burst = new BurstTracker(sizes.deltas[kind]);
  const input = runInput(sizes, kind);
  const meters = new WindowMeters(fake.pid, null, quiet);
  const readers: Promise<void>[] = [];
  const runs = Array.from({ length: sessions }, () => burst.open());
  fireBurst(sessions, sizes.windowMs, (i) => {
    const run = runs[i];
    run.times.sentAt = nowMs();
    readers.push(
      createUpstreamRun(fake.url, input).then((runId) => {
        run.times.startedAt = nowMs();
        return readUpstreamRun(fake.url, runId, (event) => {
          if (event.event === 'message.delta') burst.delta(run, event as ServerEvent);
          else if (event.event === 'run.completed') burst.end(run, false);
          else if (event.event === 'run.failed') burst.end(run, true);
        });
      }),
    );
  });
  await withTimeout(
    burst.tracker.allCompleted,
    budgetMs(sizes, kind, sessions),
    `burst ${kind} ${sessions} (floor)`,
  );
  await Promise.all(readers);
  return point('floor', kind, sessions, burst, meters.read());
}

function find(
  points: BurstPoint[],
  mode: BurstMode,
  kind: BurstKind,
  sessions: number,
): BurstPoint | undefined {
  return points.find((p) => p.mode === mode && p.kind === kind && p.sessions === sessions);
}

function intact(p: BurstPoint): boolean {
  return (
    p.lost + p.duplicates + p.orderViolations + p.seqRegressions + p.failedRuns === 0 &&
    p.delivered === p.expected
  );
}

/** `first delta p50 ≤ factor × the floor's`, for one kind and size. */
function firstDeltaCheck(
  points: BurstPoint[],
  kind: BurstKind,
  sessions: number,
  factor: number,
): Check {
  const gw = find(points, 'gateway', kind, sessions);
  const floor = find(points, 'floor', kind, sessions);
  const ratio = gw && floor ? gw.firstDeltaMs.p50 / floor.firstDeltaMs.p50 : undefined;
  return check(
    `burst ${sessions} ${kind}: first delta p50 ≤ ${factor}× the floor's`,
    ratio === undefined
      ? 'not measured'
      : `${ms(gw!.firstDeltaMs.p50, 0)} vs floor ${ms(floor!.firstDeltaMs.p50, 0)} (${ratio.toFixed(2)}×)`,
    ratio === undefined ? null : ratio <= factor,
  );
}

function burstChecks(points: BurstPoint[], sizes: BurstSizes): Check[] {
  const [small, large] = sizes.sessions;
  const checks: Check[] = [];
  const short = find(points, 'gateway', 'short', small);
  checks.push(
    check(
      `burst ${small} short: server CPU per run start ≤ 3 ms`,
      short?.serverCpuPerRunMs != null ? ms(short.serverCpuPerRunMs) : 'not measured',
      short?.serverCpuPerRunMs != null ? short.serverCpuPerRunMs <= 3 : null,
    ),
    firstDeltaCheck(points, 'short', small, 2),
    firstDeltaCheck(points, 'long', small, 2),
  );
  const long = find(points, 'gateway', 'long', small);
  const longFloor = find(points, 'floor', 'long', small);
  checks.push(
    check(
      `burst ${small} long: steady relay p99 ≤ 20 ms`,
      long ? ms(long.steadyMs.p99) : 'not measured',
      long ? long.steadyMs.p99 <= 20 : null,
    ),
  );
  const cpuRatio =
    long?.serverCpuPer1kDeltas != null && longFloor
      ? long.serverCpuPer1kDeltas / longFloor.clientCpuPer1kDeltas
      : undefined;
  checks.push(
    check(
      `burst ${small} long: server CPU per 1k delivered deltas ≤ 1.5× the floor client's`,
      cpuRatio === undefined
        ? 'not measured'
        : `${long!.serverCpuPer1kDeltas!.toFixed(1)} ms vs floor ${longFloor!.clientCpuPer1kDeltas.toFixed(1)} ms (${cpuRatio.toFixed(2)}×)`,
      cpuRatio === undefined ? null : cpuRatio <= 1.5,
    ),
  );
  for (const kind of ['short', 'long'] as const) {
    const gw = find(points, 'gateway', kind, small);
    checks.push(
      check(
        `burst ${small} ${kind}: nothing lost`,
        gw ? `${gw.delivered}/${gw.expected} delivered, ${gw.failedRuns} failed` : 'not measured',
        gw ? intact(gw) : null,
      ),
    );
  }
  if (large !== undefined) {
    for (const kind of ['short', 'long'] as const) {
      const gw = find(points, 'gateway', kind, large);
      checks.push(
        check(
          `burst ${large} ${kind}: nothing lost`,
          gw ? `${gw.delivered}/${gw.expected} delivered, ${gw.failedRuns} failed` : 'not measured',
          gw ? intact(gw) : null,
        ),
        firstDeltaCheck(points, kind, large, 3),
      );
    }
  }
  return checks;
}

function row(p: BurstPoint): (string | number)[] {
  return [
    p.kind,
    p.sessions,
    p.mode,
    `${p.delivered}/${p.expected}`,
    p.lost + p.orderViolations + p.duplicates + p.seqRegressions + p.failedRuns,
    p.startedMs.p50.toFixed(0),
    p.startedMs.p95.toFixed(0),
    p.firstDeltaMs.p50.toFixed(0),
    p.firstDeltaMs.p95.toFixed(0),
    p.steadyMs.p99.toFixed(1),
    p.serverCpuPerRunMs === null ? '–' : p.serverCpuPerRunMs.toFixed(2),
    p.serverCpuPer1kDeltas === null ? '–' : p.serverCpuPer1kDeltas.toFixed(1),
    p.clientCpuPer1kDeltas.toFixed(1),
    p.otherCpuS.toFixed(2),
  ];
}

export const burstScenario: Scenario = {
  name: 'burst',
  title: 'A burst of sessions sending run at once: first token and the cost of a run start',
  async run(context): Promise<ScenarioOutcome> {
    const sizes = context.options.quick ? QUICK : FULL;
    const fake = await FakeHermes.start();
    const points: BurstPoint[] = [];
    const profiles: { what: string; summary: ProfileSummary }[] = [];
    try {
      for (const kind of ['short', 'long'] as const) {
        for (const sessions of sizes.sessions) {
          context.log(`burst: ${sessions} × ${kind}: floor`);
          const floor = await measureFloor(context, fake, sizes, kind, sessions);
          points.push(floor);
          context.log(`burst: ${sessions} × ${kind}: gateway`);
          const profileDir =
            context.options.profile && sessions === sizes.sessions[0]
              ? `${context.options.outDir}/tmp/profile-burst-${kind}-${Date.now()}`
              : null;
          const measured = await measureGateway(context, fake, sizes, kind, sessions, profileDir);
          points.push(measured.point);
          if (measured.profile) {
            profiles.push({ what: `burst of ${sessions} ${kind} runs`, summary: measured.profile });
          }
          const gw = measured.point;
          context.log(
            `  first delta p50 ${gw.firstDeltaMs.p50} ms (floor ${floor.firstDeltaMs.p50}), ` +
              `started p50 ${gw.startedMs.p50} ms, CPU/run ${gw.serverCpuPerRunMs} ms, ` +
              `CPU/1k deltas ${gw.serverCpuPer1kDeltas} ms (floor client ${floor.clientCpuPer1kDeltas}), ` +
              `steady p99 ${gw.steadyMs.p99} ms, delivered ${gw.delivered}/${gw.expected}`,
          );
        }
      }
    } finally {
      await fake.stop();
    }
    const table: Table = {
      title: `Burst: S sessions send \`run\` within ${sizes.windowMs} ms; short = ${sizes.deltas.short} deltas, long = ${sizes.deltas.long} × ~20 B every ${sizes.intervalMs} ms`,
      columns: [
        'runs',
        'sessions',
        'path',
        'delivered',
        'lost+reordered+failed',
        'started p50 ms',
        'started p95 ms',
        'first delta p50 ms',
        'first delta p95 ms',
        'steady p99 ms',
        'server CPU ms/run',
        'server CPU ms/1k deltas',
        'client CPU ms/1k deltas',
        'other CPU s',
      ],
      rows: points.map(row),
      note:
        '"started" is `run` → `run.started` (floor: `POST /v1/runs` → its answer); "first delta" is `run` → the first `message.delta`; ' +
        '"steady" is the relay latency (`sent_at` → receipt) of every delta after each stream\'s first. ' +
        "Server CPU per run is the gateway's CPU over the whole window divided by the runs (start, relay and end). " +
        'floor = the same client process creating the runs on the fake and reading their SSE directly, in the same burst.',
    };
    return {
      figures: { sizes, deltaText: DELTA_TEXT, points, profiles },
      checks: burstChecks(points, sizes),
      tables: [table, ...profiles.flatMap(({ what, summary }) => profileTables(what, summary))],
    };
  },
};
