import type { Socket } from 'socket.io-client';
import {
  closeAll,
  connect,
  nextEvent,
  request,
  RunWatch,
  type ServerEvent,
} from '../lib/chat-socket';
import { FakeHermes, type Gateway } from '../lib/processes';
import { waitForQuietMachine } from '../lib/proc-stats';
import {
  profileTables,
  profileArgs,
  summariseProfile,
  type ProfileSummary,
  type ProfileWindow,
} from '../lib/profile';
import { startSeededGateway } from '../lib/seeded-gateway';
import { distribution, nowMs, roundDistribution, sleep, type Distribution } from '../lib/stats';
import { check, ms, type BenchContext, type Scenario, type ScenarioOutcome } from '../lib/types';

interface RunStartSizes {
  turns: number[];
  /** Sessions per size; runs go round-robin over them (the first run of each is cold). */
  sessionsPerSize: number;
  idleWindowMs: number;
  loadedWindowMs: number;
}

const FULL: RunStartSizes = {
  turns: [100, 1000, 5000],
  sessionsPerSize: 8,
  idleWindowMs: 4000,
  loadedWindowMs: 5000,
};
const QUICK: RunStartSizes = {
  turns: [100],
  sessionsPerSize: 2,
  idleWindowMs: 500,
  loadedWindowMs: 700,
};

const BACKGROUND_INTERVAL_MS = 20;
const PROBE_INPUT_START = 'one more question';

export interface RunStartPoint {
  turns: number;
  runs: number;
  /** `run` sent → `run.started` received, every run. */
  toStartedMs: Distribution;
  /** `run` sent → first `message.delta`. */
  toFirstDeltaMs: Distribution;
  /** Only the first run of each session since the server started. */
  coldToStartedMs: Distribution;
  /** The streaming background session's relay latency, alone and during the run starts. */
  backgroundIdleMs: Distribution;
  backgroundLoadedMs: Distribution;
  /** What the gateway sent upstream to start one of these runs (`POST /v1/runs` body). */
  upstreamBodyBytes: number;
  upstreamHistoryMessages: number;
}

interface Receipt {
  at: number;
  latency: number;
}

/** A session that streams for the whole measurement of one size, on its own socket. */
async function startBackground(
  gateway: Gateway,
  id: string,
  durationMs: number,
): Promise<{ socket: Socket; receipts: Receipt[]; done: Promise<ServerEvent> }> {
  const socket = await connect(gateway.url, gateway.token);
  const receipts: Receipt[] = [];
  socket.on('message.delta', (p: ServerEvent) => {
    const at = nowMs();
    if (typeof p.sent_at === 'number') receipts.push({ at, latency: at - p.sent_at });
  });
  const deltas = Math.ceil(durationMs / BACKGROUND_INTERVAL_MS);
  const done = nextEvent(socket, 'run.completed', () => true, durationMs + 60_000);
  const first = nextEvent(socket, 'message.delta');
  await request(socket, 'run', {
    session_id: id,
    input: `background [[deltas:${deltas},interval:${BACKGROUND_INTERVAL_MS}]]`,
  });
  await first;
  return { socket, receipts, done };
}

/** One run on a long session: times to `run.started` and to the first delta, then its end. */
async function timedRun(
  socket: Socket,
  sessionId: string,
): Promise<{ started: number; firstDelta: number }> {
  const watch = new RunWatch(socket, sessionId);
  try {
    watch.start();
    await request(socket, 'run', {
      session_id: sessionId,
      input: `${PROBE_INPUT_START} [[deltas:3,interval:5]]`,
    });
    const end = await watch.waitFor(['run.completed', 'run.failed']);
    if (end === 'run.failed') {
      throw new Error(
        `run on ${sessionId} failed: ${String(watch.payloads.get('run.failed')?.error)}`,
      );
    }
    return { started: watch.at.get('run.started')!, firstDelta: watch.at.get('message.delta')! };
  } finally {
    watch.close();
  }
}

function latenciesBetween(receipts: Receipt[], from: number, to: number): number[] {
  return receipts.filter((r) => r.at >= from && r.at < to).map((r) => r.latency);
}

async function measureSize(
  fake: FakeHermes,
  gateway: Gateway,
  sizes: RunStartSizes,
  turns: number,
): Promise<{ point: RunStartPoint; loadedWindow: ProfileWindow }> {
  const sessions = Array.from({ length: sizes.sessionsPerSize }, (_, i) => sessionId(turns, i));
  const background = await startBackground(
    gateway,
    `background-${turns}`,
    sizes.idleWindowMs + sizes.loadedWindowMs + 2000,
  );
  const probe = await connect(gateway.url, gateway.token);
  try {
    const idleFrom = nowMs();
    await sleep(sizes.idleWindowMs);
    const loadedFrom = nowMs();
    const loadedFromWall = Date.now();
    const toStarted: number[] = [];
    const toFirstDelta: number[] = [];
    // Back to back, one in flight: the gateway is always starting a run on a long session.
    for (let i = 0; nowMs() - loadedFrom < sizes.loadedWindowMs || i < sessions.length; i++) {
      const timing = await timedRun(probe, sessions[i % sessions.length]);
      toStarted.push(timing.started);
      toFirstDelta.push(timing.firstDelta);
    }
    const loadedTo = nowMs();
    const loadedWindow = {
      fromMs: loadedFromWall - gateway.spawnedAtMs,
      toMs: Date.now() - gateway.spawnedAtMs,
    };
    await background.done;
    const upstream = (await fake.runs())
      .filter((run) => run.input.startsWith(PROBE_INPUT_START) && run.historyLength >= 2 * turns)
      .sort((a, b) => b.bodyBytes - a.bodyBytes)[0];
    const point: RunStartPoint = {
      turns,
      runs: toStarted.length,
      toStartedMs: roundDistribution(distribution(toStarted)),
      toFirstDeltaMs: roundDistribution(distribution(toFirstDelta)),
      coldToStartedMs: roundDistribution(distribution(toStarted.slice(0, sessions.length))),
      backgroundIdleMs: roundDistribution(
        distribution(latenciesBetween(background.receipts, idleFrom, loadedFrom)),
      ),
      backgroundLoadedMs: roundDistribution(
        distribution(latenciesBetween(background.receipts, loadedFrom, loadedTo)),
      ),
      upstreamBodyBytes: upstream?.bodyBytes ?? NaN,
      upstreamHistoryMessages: upstream?.historyLength ?? NaN,
    };
    return { point, loadedWindow };
  } finally {
    closeAll([probe, background.socket]);
  }
}

function sessionId(turns: number, index: number): string {
  return `long-${turns}-${index}`;
}

export const runStartScenario: Scenario = {
  name: 'run-start',
  title: 'Run start on long sessions, and head-of-line blocking',
  async run(context: BenchContext): Promise<ScenarioOutcome> {
    const sizes = context.options.quick ? QUICK : FULL;
    const fake = await FakeHermes.start();
    const points: RunStartPoint[] = [];
    let profile: ProfileSummary | undefined;
    try {
      const seeds = sizes.turns.flatMap((turns) =>
        Array.from({ length: sizes.sessionsPerSize }, (_, i) => ({
          id: sessionId(turns, i),
          turns,
        })),
      );
      context.log(`run-start: seeding ${seeds.length} sessions (${sizes.turns.join(', ')} turns)`);
      const profileDir = context.options.profile
        ? `${context.options.outDir}/tmp/profile-run-start-${Date.now()}`
        : null;
      const gateway = await startSeededGateway(
        {
          dist: context.options.dist,
          hermesUrl: fake.url,
          nodeArgs: profileDir ? profileArgs(profileDir) : [],
        },
        seeds,
      );
      let profileWindow: ProfileWindow | undefined;
      try {
        for (const turns of sizes.turns) {
          await waitForQuietMachine(context);
          const { point: p, loadedWindow } = await measureSize(fake, gateway, sizes, turns);
          points.push(p);
          profileWindow = loadedWindow;
          context.log(
            `  ${turns} turns: run.started p50 ${p.toStartedMs.p50} ms (cold ${p.coldToStartedMs.p50}), ` +
              `first delta p50 ${p.toFirstDeltaMs.p50} ms; background p99 ${p.backgroundIdleMs.p99} → ${p.backgroundLoadedMs.p99} ms`,
          );
        }
      } finally {
        await gateway.stop();
      }
      // The largest size's loaded window: where run starts compete with the background stream.
      if (profileDir && profileWindow) profile = summariseProfile(profileDir, profileWindow);
    } finally {
      await fake.stop();
    }
    const at = (turns: number) => points.find((p) => p.turns === turns);
    const p100 = at(100);
    const p5000 = at(5000);
    const hol = points.map((p) => p.backgroundLoadedMs.p99 / p.backgroundIdleMs.p99);
    return {
      figures: { sizes, points, ...(profile ? { profile } : {}) },
      checks: [
        check(
          'run start at 5,000 prior turns: run → run.started < 20 ms (p50)',
          p5000
            ? `${ms(p5000.toStartedMs.p50)} (p95 ${ms(p5000.toStartedMs.p95)}, cold p50 ${ms(p5000.coldToStartedMs.p50)})`
            : 'not measured',
          p5000 ? p5000.toStartedMs.p50 < 20 : null,
        ),
        check(
          'run start at 5,000 turns within 2× of 100 turns (p50)',
          p5000 && p100
            ? `${ms(p5000.toStartedMs.p50)} vs ${ms(p100.toStartedMs.p50)} (${(p5000.toStartedMs.p50 / p100.toStartedMs.p50).toFixed(2)}×)`
            : 'not measured',
          p5000 && p100 ? p5000.toStartedMs.p50 <= 2 * p100.toStartedMs.p50 : null,
        ),
        check(
          'background session p99 during run starts < 2× its idle p99 (worst size)',
          points.length
            ? points
                .map(
                  (p) =>
                    `${p.turns}: ${ms(p.backgroundIdleMs.p99)} → ${ms(p.backgroundLoadedMs.p99)}`,
                )
                .join('; ')
            : 'not measured',
          points.length ? Math.max(...hol) < 2 : null,
        ),
      ],
      tables: [
        {
          title: 'Run start on sessions with K stored prior turns (compression not triggered)',
          columns: [
            'prior turns',
            'upstream request',
            'runs',
            'run → run.started p50',
            'p95',
            'max',
            'cold p50',
            'run → first delta p50',
            'p95',
            'background p99 idle',
            'background p99 during starts',
            'background max during starts',
          ],
          rows: points.map((p) => [
            p.turns,
            `${p.upstreamHistoryMessages} msgs, ${(p.upstreamBodyBytes / 1024 / 1024).toFixed(2)} MB`,
            p.runs,
            ms(p.toStartedMs.p50),
            ms(p.toStartedMs.p95),
            ms(p.toStartedMs.max),
            ms(p.coldToStartedMs.p50),
            ms(p.toFirstDeltaMs.p50),
            ms(p.toFirstDeltaMs.p95),
            ms(p.backgroundIdleMs.p99),
            ms(p.backgroundLoadedMs.p99),
            ms(p.backgroundLoadedMs.max),
          ]),
          note:
            `A turn is a stored user message (~100 bytes) and assistant reply (~400 bytes); ${sizes.sessionsPerSize} sessions per size, ` +
            'runs back to back, one in flight, for the loaded window; "cold" is the first run of each session after the server started. ' +
            '"upstream request" is the `POST /v1/runs` body the gateway sent for one run (the whole history goes upstream on every run). ' +
            `The background session streams a delta every ${BACKGROUND_INTERVAL_MS} ms on its own socket throughout: ` +
            `${sizes.idleWindowMs} ms alone ("idle"), then while the runs start.`,
        },
        ...(profile
          ? profileTables(`runs starting at ${Math.max(...sizes.turns)} turns`, profile)
          : []),
      ],
    };
  },
};
