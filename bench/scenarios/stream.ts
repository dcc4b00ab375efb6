import type { Socket } from 'socket.io-client';
import {
  closeAll,
  connectMany,
  createSession,
  request,
  type ServerEvent,
} from '../lib/chat-socket';
import { FakeHermes, Gateway } from '../lib/processes';
import { MB, RssSampler, waitForQuietMachine } from '../lib/proc-stats';
import { WindowMeters, withTimeout, type WindowCpu } from '../lib/window-meters';
import { createUpstreamRun, readUpstreamRun } from '../lib/sse-floor';
import { roundDistribution, round, type Distribution } from '../lib/stats';
import { StreamTracker } from '../lib/stream-tracker';
import { profileTables, profileArgs, summariseProfile, type ProfileSummary } from '../lib/profile';
import { warmUp } from '../lib/warm-up';
import {
  check,
  ms,
  signedMs,
  type BenchContext,
  type Check,
  type Scenario,
  type ScenarioOutcome,
} from '../lib/types';

interface StreamSizes {
  sessions: number[];
  /** Session counts of the variant with several clients per session. */
  variantSessions: number[];
  variantClients: number;
  deltas: number;
  intervalMs: number;
  /** Run starts are spread evenly over this window, so that sessions do not tick in lockstep. */
  rampMs: number;
}

const FULL: StreamSizes = {
  sessions: [1, 50, 200, 500],
  variantSessions: [1, 50, 200, 500],
  variantClients: 3,
  deltas: 200,
  intervalMs: 20,
  rampMs: 1000,
};

const QUICK: StreamSizes = {
  sessions: [1, 5],
  variantSessions: [5],
  variantClients: 3,
  deltas: 20,
  intervalMs: 20,
  rampMs: 100,
};

/** ~20 bytes per delta; the index first, so that order and loss are checked on the content. */
const DELTA_TEXT = '{i}:lorem-ipsum-dolor';

export type StreamMode = 'gateway' | 'floor';

export interface StreamPoint {
  mode: StreamMode;
  sessions: number;
  clientsPerSession: number;
  streams: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  orderViolations: number;
  seqRegressions: number;
  failedRuns: number;
  latencyMs: Distribution;
  /** From the first to the last delta received. */
  deliverySpanS: number;
  deltasPerSecond: number;
  /** Gateway process (gateway mode) — the floor has no server. */
  serverCpuS: number | null;
  serverCpuPer10k: number | null;
  serverPeakRssMb: number | null;
  clientCpuS: number;
  clientCpuPer10k: number;
  fakeCpuS: number;
  /** Busy CPU of the machine in the window not spent by the gateway, the fake or this process. */
  otherCpuS: number;
  /** 1-minute load average when the measurement started. */
  loadAverage: number;
  /** Whether the machine was idle right before (see waitForQuietMachine). */
  machineQuietBefore: boolean;
  /** From the first run start to the last run's end. */
  windowS: number;
}

function runInput(sizes: StreamSizes): string {
  return `bench stream [[deltas:${sizes.deltas},interval:${sizes.intervalMs},text:${DELTA_TEXT}]]`;
}

function at(startMs: number, index: number, count: number, rampMs: number): number {
  return Math.max(0, startMs + (index * rampMs) / Math.max(1, count) - Date.now());
}

function point(
  mode: StreamMode,
  sessions: number,
  clients: number,
  tracker: StreamTracker,
  failedRuns: number,
  cpu: WindowCpu,
  peakRss: number | null,
): StreamPoint {
  const totals = tracker.totals();
  const span = Math.max(1e-3, (tracker.lastReceiptMs - tracker.firstReceiptMs) / 1000);
  const per10k = (seconds: number): number =>
    totals.delivered > 0 ? round((seconds * 10_000) / totals.delivered, 4) : NaN;
  return {
    mode,
    sessions,
    clientsPerSession: clients,
    streams: totals.streams,
    expected: totals.expected,
    delivered: totals.delivered,
    lost: totals.lost,
    duplicates: totals.duplicates,
    orderViolations: totals.outOfOrder,
    seqRegressions: totals.seqRegressions,
    failedRuns,
    latencyMs: roundDistribution(tracker.latencies.summary()),
    deliverySpanS: round(span),
    deltasPerSecond: Math.round(totals.delivered / span),
    serverCpuS: cpu.server === null ? null : round(cpu.server),
    serverCpuPer10k: cpu.server === null ? null : per10k(cpu.server),
    serverPeakRssMb: peakRss === null ? null : round(peakRss / MB, 1),
    clientCpuS: round(cpu.client),
    clientCpuPer10k: per10k(cpu.client),
    fakeCpuS: round(cpu.fake),
    otherCpuS: round(Math.max(0, cpu.machine - (cpu.server ?? 0) - cpu.client - cpu.fake), 2),
    loadAverage: round(cpu.load, 2),
    machineQuietBefore: cpu.quiet,
    windowS: round(cpu.windowS),
  };
}

/** S sessions × C clients through the gateway. */
async function measureGateway(
  context: BenchContext,
  fake: FakeHermes,
  sizes: StreamSizes,
  sessions: number,
  clients: number,
  profileDir: string | null,
): Promise<{ point: StreamPoint; profile?: ProfileSummary }> {
  const gateway = await Gateway.start({
    dist: context.options.dist,
    hermesUrl: fake.url,
    nodeArgs: profileDir ? profileArgs(profileDir) : [],
  });
  let sockets: Socket[] = [];
  let rss: RssSampler | undefined;
  try {
    await warmUp(gateway);
    const { quiet } = await waitForQuietMachine(context);
    const ids = Array.from({ length: sessions }, (_, i) => `stream-${sessions}x${clients}-${i}`);
    sockets = await connectMany(gateway.url, gateway.token, sessions * clients);
    const tracker = new StreamTracker(sizes.deltas);
    let failedRuns = 0;
    for (let s = 0; s < sessions; s++) {
      for (let c = 0; c < clients; c++) {
        const socket = sockets[s * clients + c];
        const state = tracker.open();
        socket.on('message.delta', (p: ServerEvent) =>
          tracker.delta(state, p.delta, p.sent_at, p.seq),
        );
        socket.on('run.completed', () => tracker.complete(state));
        socket.on('run.failed', () => {
          failedRuns++;
          tracker.complete(state);
        });
      }
    }
    if (clients > 1) {
      // The other clients of a session are in its room before the run starts (as open tabs are).
      for (const id of ids) await createSession(gateway.url, gateway.token, id);
      await Promise.all(
        ids.flatMap((id, s) =>
          Array.from({ length: clients - 1 }, (_, c) =>
            request(sockets[s * clients + c + 1], 'resume', { session_id: id }),
          ),
        ),
      );
    }
    const meters = new WindowMeters(fake.pid, gateway.pid, quiet);
    rss = new RssSampler(gateway.pid).start();
    const start = Date.now();
    const input = runInput(sizes);
    const starts = ids.map(
      (id, s) =>
        new Promise<void>((resolve, reject) => {
          setTimeout(
            () => {
              request(sockets[s * clients], 'run', { session_id: id, input, queue_id: `q-${id}` })
                .then(() => resolve())
                .catch(reject);
            },
            at(start, s, sessions, sizes.rampMs),
          );
        }),
    );
    const budget = sizes.deltas * sizes.intervalMs + sizes.rampMs + 60_000;
    await withTimeout(Promise.all([...starts, tracker.allCompleted]), budget, 'stream (gateway)');
    const cpu = meters.read();
    const { peakBytes } = rss.stop();
    const window = { fromMs: start - gateway.spawnedAtMs, toMs: Date.now() - gateway.spawnedAtMs };
    closeAll(sockets);
    // The profile is written when the process exits.
    await gateway.stop();
    return {
      point: point('gateway', sessions, clients, tracker, failedRuns, cpu, peakBytes),
      ...(profileDir ? { profile: summariseProfile(profileDir, window) } : {}),
    };
  } finally {
    rss?.stop();
    closeAll(sockets);
    await gateway.stop();
  }
}

/** The floor: the same client process reads the same fake streams directly over SSE. */
async function measureFloor(
  context: BenchContext,
  fake: FakeHermes,
  sizes: StreamSizes,
  sessions: number,
  clients: number,
): Promise<StreamPoint> {
  const { quiet } = await waitForQuietMachine(context);
  const tracker = new StreamTracker(sizes.deltas);
  let failedRuns = 0;
  const input = runInput(sizes);
  const meters = new WindowMeters(fake.pid, null, quiet);
  const start = Date.now();
  const readers: Promise<void>[] = [];
  for (let s = 0; s < sessions; s++) {
    for (let c = 0; c < clients; c++) {
      const state = tracker.open();
      readers.push(
        new Promise<void>((resolve) => setTimeout(resolve, at(start, s, sessions, sizes.rampMs)))
          .then(() => createUpstreamRun(fake.url, input))
          .then((runId) =>
            readUpstreamRun(fake.url, runId, (event) => {
              if (event.event === 'message.delta') tracker.delta(state, event.delta, event.sent_at);
              else if (event.event === 'run.completed') tracker.complete(state);
              else if (event.event === 'run.failed') {
                failedRuns++;
                tracker.complete(state);
              }
            }),
          ),
      );
    }
  }
  const budget = sizes.deltas * sizes.intervalMs + sizes.rampMs + 60_000;
  await withTimeout(Promise.all(readers), budget, 'stream (floor)');
  return point('floor', sessions, clients, tracker, failedRuns, meters.read(), null);
}

function find(
  points: StreamPoint[],
  mode: StreamMode,
  sessions: number,
  clients = 1,
): StreamPoint | undefined {
  return points.find(
    (p) => p.mode === mode && p.sessions === sessions && p.clientsPerSession === clients,
  );
}

/** Other processes' share of the machine during a measurement, in cores. */
function otherCores(p: StreamPoint): number {
  return p.windowS > 0 ? p.otherCpuS / p.windowS : 0;
}

/** A note for a check whose measurements shared the machine with someone else's work. */
function noiseNote(...measured: (StreamPoint | undefined)[]): string | undefined {
  const busiest = Math.max(0, ...measured.filter((p) => p !== undefined).map(otherCores));
  return busiest > 0.25
    ? `other processes used ${busiest.toFixed(1)} of the 2 cores during the measurement`
    : undefined;
}

function streamChecks(points: StreamPoint[]): Check[] {
  const checks: Check[] = [];
  const gw200 = find(points, 'gateway', 200);
  const floor200 = find(points, 'floor', 200);
  const note200 = noiseNote(gw200, floor200);
  const gap = gw200 && floor200 ? gw200.latencyMs.p50 - floor200.latencyMs.p50 : undefined;
  checks.push(
    check(
      'stream 200 sessions: relay p50 within 1 ms of the floor p50',
      gap === undefined
        ? 'not measured'
        : `${ms(gw200!.latencyMs.p50)} vs floor ${ms(floor200!.latencyMs.p50)} (${signedMs(gap)})`,
      gap === undefined ? null : gap <= 1,
      note200,
    ),
    check(
      'stream 200 sessions: relay p99 < 10 ms',
      gw200 ? ms(gw200.latencyMs.p99) : 'not measured',
      gw200 ? gw200.latencyMs.p99 < 10 : null,
      noiseNote(gw200),
    ),
  );
  const ratio =
    gw200?.serverCpuPer10k != null && floor200
      ? gw200.serverCpuPer10k / floor200.clientCpuPer10k
      : undefined;
  checks.push(
    check(
      'stream 200 sessions: server CPU per 10k deltas ≤ 2× the floor client CPU per 10k',
      ratio === undefined
        ? 'not measured'
        : `${gw200!.serverCpuPer10k!.toFixed(3)} s vs floor ${floor200!.clientCpuPer10k.toFixed(3)} s (${ratio.toFixed(2)}×)`,
      ratio === undefined ? null : ratio <= 2,
    ),
  );
  for (const clients of [1, 3]) {
    const gw500 = find(points, 'gateway', 500, clients);
    const label = clients === 1 ? '' : ` (${clients} clients each)`;
    const intact = gw500
      ? gw500.lost === 0 &&
        gw500.orderViolations === 0 &&
        gw500.duplicates === 0 &&
        gw500.seqRegressions === 0 &&
        gw500.failedRuns === 0
      : null;
    checks.push(
      check(
        `stream 500 sessions${label}: no delta lost or reordered`,
        gw500
          ? `${gw500.delivered}/${gw500.expected} delivered, ${gw500.lost} lost, ${gw500.orderViolations} out of order, ${gw500.duplicates} duplicated`
          : 'not measured',
        intact,
      ),
      check(
        `stream 500 sessions${label}: relay p99 < 50 ms`,
        gw500 ? ms(gw500.latencyMs.p99) : 'not measured',
        gw500 ? gw500.latencyMs.p99 < 50 : null,
        noiseNote(gw500),
      ),
    );
  }
  return checks;
}

function row(p: StreamPoint): (string | number)[] {
  return [
    p.mode,
    p.sessions,
    p.clientsPerSession,
    `${p.delivered}/${p.expected}`,
    p.lost + p.orderViolations + p.duplicates + p.seqRegressions + p.failedRuns,
    p.latencyMs.p50.toFixed(2),
    p.latencyMs.p95.toFixed(2),
    p.latencyMs.p99.toFixed(2),
    p.latencyMs.max.toFixed(1),
    p.deltasPerSecond,
    p.serverCpuPer10k === null ? '–' : p.serverCpuPer10k.toFixed(3),
    p.clientCpuPer10k.toFixed(3),
    p.fakeCpuS.toFixed(2),
    p.otherCpuS.toFixed(2),
    p.serverPeakRssMb === null ? '–' : p.serverPeakRssMb.toFixed(0),
  ];
}

export const streamScenario: Scenario = {
  name: 'stream',
  title: 'Streaming capacity and relay latency',
  async run(context): Promise<ScenarioOutcome> {
    const sizes = context.options.quick ? QUICK : FULL;
    const fake = await FakeHermes.start();
    const points: StreamPoint[] = [];
    let profile: ProfileSummary | undefined;
    try {
      const plan: [number, number][] = [
        ...sizes.sessions.map((s): [number, number] => [s, 1]),
        ...sizes.variantSessions.map((s): [number, number] => [s, sizes.variantClients]),
      ];
      const largest = Math.max(...sizes.sessions);
      for (const [sessions, clients] of plan) {
        context.log(`stream: ${sessions} sessions × ${clients} client(s): floor`);
        points.push(await measureFloor(context, fake, sizes, sessions, clients));
        context.log(`stream: ${sessions} sessions × ${clients} client(s): gateway`);
        const profileDir =
          context.options.profile && clients === 1 && sessions === largest
            ? profileOutDir(context)
            : null;
        const measured = await measureGateway(context, fake, sizes, sessions, clients, profileDir);
        points.push(measured.point);
        if (measured.profile) profile = measured.profile;
        const [floorPoint, gwPoint] = points.slice(-2);
        context.log(
          `  p50 ${gwPoint.latencyMs.p50} ms (floor ${floorPoint.latencyMs.p50}), p99 ${gwPoint.latencyMs.p99} ms ` +
            `(floor ${floorPoint.latencyMs.p99}), server CPU/10k ${gwPoint.serverCpuPer10k} s, ` +
            `delivered ${gwPoint.delivered}/${gwPoint.expected}`,
        );
      }
    } finally {
      await fake.stop();
    }
    const columns = [
      'path',
      'sessions',
      'clients/session',
      'delivered',
      'lost+reordered',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'deltas/s',
      'server CPU s/10k',
      'client CPU s/10k',
      'fake CPU s',
      'other CPU s',
      'server peak RSS MB',
    ];
    return {
      figures: { sizes, deltaText: DELTA_TEXT, points, ...(profile ? { profile } : {}) },
      checks: streamChecks(points),
      tables: [
        {
          title: `Stream: ${sizes.deltas} deltas of ~20 bytes every ${sizes.intervalMs} ms per session (starts spread over ${sizes.rampMs} ms)`,
          columns,
          rows: points.map(row),
          note:
            'Latency: the fake stamps `sent_at` when it writes a delta; the client subtracts it on receipt. ' +
            'floor = the same client process reading the same fake streams directly over SSE (for N clients per session, N streams per session). ' +
            '"server CPU" is the gateway process (/proc/<pid>/stat), "client CPU" this process (process.cpuUsage()), ' +
            '"other CPU" what the rest of the machine used in the window (a busy machine skews latency).',
        },
        ...(profile
          ? profileTables(`stream at ${Math.max(...sizes.sessions)} sessions`, profile)
          : []),
      ],
    };
  },
};

function profileOutDir(context: BenchContext): string {
  return `${context.options.outDir}/tmp/profile-stream-${Date.now()}`;
}
