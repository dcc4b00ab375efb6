import type { Socket } from 'socket.io-client';
import { closeAll, connectMany, request, type ServerEvent } from '../lib/chat-socket';
import { FakeHermes, Gateway } from '../lib/processes';
import { CpuMeter, MB, RssSampler, rssBytes } from '../lib/proc-stats';
import { round, sleep } from '../lib/stats';
import { check, mb, type BenchContext, type Scenario, type ScenarioOutcome } from '../lib/types';

interface MemorySizes {
  sessions: number;
  /** Runs in flight at once. */
  concurrency: number;
  sockets: number;
  /** How long RSS is watched after the last eviction (V8 gives memory back lazily). */
  settleMs: number;
}

const FULL: MemorySizes = { sessions: 10_000, concurrency: 50, sockets: 10, settleMs: 20_000 };
const QUICK: MemorySizes = { sessions: 100, concurrency: 20, sockets: 4, settleMs: 1000 };

/** SESSION_IDLE_MS for the scenario: sessions go after 3 s idle (swept every 1.5 s). */
const SHORT_IDLE_MS = 3000;
/** The server's default (5 minutes, swept every minute), with `--real-eviction`. */
const DEFAULT_IDLE_MS = 5 * 60_000;

/** What the memory probe (preload/memory-probe.js) prints every second. */
interface SweepReport {
  runtimes: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** The latest probe report; written by the server's output handler while we await. */
class Sweeps {
  private latest: SweepReport | null = null;

  get last(): SweepReport | null {
    return this.latest;
  }

  record(report: SweepReport): void {
    this.latest = report;
  }

  reset(): void {
    this.latest = null;
  }
}

export interface MemoryFigures {
  sessions: number;
  /** SESSION_IDLE_MS the server ran with. */
  sessionIdleMs: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  rssAfterTouchMb: number;
  rssAfterEvictionMb: number;
  rssMinAfterEvictionMb: number;
  touchSeconds: number;
  runsPerSecond: number;
  /** Gateway CPU per run while touching (start, 3 deltas, end, all stored). */
  serverCpuMsPerRun: number;
  failedRuns: number;
  /** Session runtimes the server still held when we stopped waiting (from the probe). */
  remainingRuntimes: number | null;
  evictionSeconds: number | null;
  /** V8 heap in use (reported by the probe). */
  heapUsedBeforeMb: number | null;
  heapUsedAfterMb: number | null;
  externalAfterMb: number | null;
  /** V8 heap used right after one forced full GC (before the sessions, and at the very end). */
  heapRetainedBeforeMb: number | null;
  heapRetainedAfterMb: number | null;
  timeline: { atS: number; rssMb: number }[];
}

/** Median of a few RSS samples, `gapMs` apart, so one GC does not decide a figure. */
async function steadyRss(pid: number, samples = 5, gapMs = 200): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    values.push(rssBytes(pid));
    await sleep(gapMs);
  }
  return values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** Runs one short run on each of `ids`, `concurrency` at a time, across `sockets`. */
async function touchSessions(
  sockets: Socket[],
  ids: string[],
  concurrency: number,
): Promise<number> {
  const waiting = new Map<string, () => void>();
  let failed = 0;
  for (const socket of sockets) {
    socket.on('run.completed', (p: ServerEvent) => waiting.get(p.session_id!)?.());
    socket.on('run.failed', (p: ServerEvent) => {
      failed++;
      waiting.get(p.session_id!)?.();
    });
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const index = next++;
      const id = ids[index];
      const done = new Promise<void>((resolve) => waiting.set(id, resolve));
      await request(sockets[index % sockets.length], 'run', {
        session_id: id,
        input: 'hi [[deltas:3,interval:1]]',
      });
      await done;
      waiting.delete(id);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failed;
}

export const memoryScenario: Scenario = {
  name: 'memory',
  title: 'Memory: many sessions, then idle',
  async run(context: BenchContext): Promise<ScenarioOutcome> {
    const sizes = context.options.quick ? QUICK : FULL;
    const idleMs = context.options.realEviction ? DEFAULT_IDLE_MS : SHORT_IDLE_MS;
    const fake = await FakeHermes.start();
    const probe = new Sweeps();
    let probeUnavailable = false;
    let gcReport: SweepReport | null = null;
    const gateway = await Gateway.start({
      dist: context.options.dist,
      hermesUrl: fake.url,
      preloads: ['memory-probe.js'],
      stdin: true,
      env: { SESSION_IDLE_MS: String(idleMs) },
      onLine: (line) => {
        if (line.startsWith('BENCH_MEMORY ')) {
          probe.record(JSON.parse(line.slice('BENCH_MEMORY '.length)) as SweepReport);
        } else if (line.startsWith('BENCH_MEMORY_GC ')) {
          gcReport = JSON.parse(line.slice('BENCH_MEMORY_GC '.length)) as SweepReport;
        } else if (line.startsWith('BENCH_MEMORY_UNAVAILABLE')) {
          probeUnavailable = true;
        }
      },
    });
    /** Until the server holds no session runtime, or `timeoutMs`: seconds waited, or null. */
    const waitForEviction = async (since: number, timeoutMs: number): Promise<number | null> => {
      const deadline = since + timeoutMs;
      probe.reset(); // only reports that come after the sessions went idle count
      while (Date.now() < deadline) {
        if (!probeUnavailable && probe.last !== null && probe.last.runtimes === 0) {
          return (Date.now() - since) / 1000;
        }
        await sleep(250);
      }
      return null;
    };
    /** Diagnostic: the probe runs one full GC; the heap then holds only what is retained. */
    const heapAfterForcedGc = async (): Promise<number | null> => {
      if (probeUnavailable) return null;
      gcReport = null;
      gateway.tell('gc');
      for (let i = 0; i < 30 && gcReport === null; i++) await sleep(100);
      const report = gcReport as SweepReport | null;
      return report ? report.heapUsed : null;
    };
    let figures: MemoryFigures;
    try {
      // Warm up (JIT, the SQLite cache, socket.io) so that "before" is a running server's floor.
      let sockets = await connectMany(gateway.url, gateway.token, sizes.sockets);
      const warm = Array.from({ length: context.options.quick ? 10 : 50 }, (_, i) => `warmup-${i}`);
      await touchSessions(sockets, warm, 10);
      closeAll(sockets);
      await waitForEviction(Date.now(), Math.min(idleMs * 2 + 5000, 60_000));
      const before = await steadyRss(gateway.pid);
      const heapBefore = probe.last?.heapUsed ?? null;
      // After the "before" RSS sample, so that the forced GC does not lower it.
      const retainedBefore = await heapAfterForcedGc();
      const sampler = new RssSampler(gateway.pid, 250, true).start();
      const serverCpu = CpuMeter.forPid(gateway.pid);
      const began = Date.now();
      context.log(`memory: touching ${sizes.sessions} sessions (RSS before ${mb(before)})`);
      sockets = await connectMany(gateway.url, gateway.token, sizes.sockets);
      const ids = Array.from({ length: sizes.sessions }, (_, i) => `mem-${i}`);
      const failedRuns = await touchSessions(sockets, ids, sizes.concurrency);
      const touchSeconds = (Date.now() - began) / 1000;
      const touchCpu = serverCpu.elapsed();
      const afterTouch = await steadyRss(gateway.pid, 3);
      // Leaving the rooms is what lets the sessions go idle.
      closeAll(sockets);
      const idleFrom = Date.now();
      if (context.options.realEviction) {
        context.log(
          `memory: waiting for the server's default eviction (${idleMs / 60_000} min idle)`,
        );
      }
      // Evicted within 1.5× the idle time (the sweep runs at half of it), with some slack.
      const evictionSeconds = await waitForEviction(idleFrom, idleMs * 1.5 + 30_000);
      context.log(
        `memory: ${probe.last?.runtimes ?? '?'} session runtimes left after ${((Date.now() - idleFrom) / 1000).toFixed(1)} s idle`,
      );
      await sleep(sizes.settleMs);
      const after = await steadyRss(gateway.pid);
      sampler.stop();
      const heapUsedAfter = probe.last?.heapUsed ?? null;
      // After the last RSS sample, so that the forced GC does not lower it.
      const retainedAfter = await heapAfterForcedGc();
      const afterSamples = sampler.samples.filter((s) => s.atMs >= idleFrom - began);
      figures = {
        sessions: sizes.sessions,
        sessionIdleMs: idleMs,
        rssBeforeMb: round(before / MB, 1),
        rssPeakMb: round(sampler.peak / MB, 1),
        rssAfterTouchMb: round(afterTouch / MB, 1),
        rssAfterEvictionMb: round(after / MB, 1),
        rssMinAfterEvictionMb: round(Math.min(after, ...afterSamples.map((s) => s.bytes)) / MB, 1),
        touchSeconds: round(touchSeconds, 1),
        runsPerSecond: Math.round(sizes.sessions / touchSeconds),
        serverCpuMsPerRun: round((touchCpu * 1000) / sizes.sessions, 2),
        failedRuns,
        remainingRuntimes: probe.last?.runtimes ?? null,
        evictionSeconds: evictionSeconds === null ? null : round(evictionSeconds, 1),
        heapUsedBeforeMb: heapBefore === null ? null : round(heapBefore / MB, 1),
        heapUsedAfterMb: heapUsedAfter === null ? null : round(heapUsedAfter / MB, 1),
        heapRetainedBeforeMb: retainedBefore === null ? null : round(retainedBefore / MB, 1),
        heapRetainedAfterMb: retainedAfter === null ? null : round(retainedAfter / MB, 1),
        externalAfterMb: probe.last ? round(probe.last.external / MB, 1) : null,
        timeline: sampler.samples
          .filter((_, i) => i % 4 === 0)
          .map((s) => ({ atS: round(s.atMs / 1000, 1), rssMb: round(s.bytes / MB, 1) })),
      };
    } finally {
      await gateway.stop();
      await fake.stop();
    }
    const growth = figures.rssAfterEvictionMb - figures.rssBeforeMb;
    return {
      figures: { sizes, ...figures },
      checks: [
        check(
          `memory: RSS after eviction within 50 MB of before (${figures.sessions} sessions)`,
          `${figures.rssBeforeMb} → peak ${figures.rssPeakMb} → ${figures.rssAfterEvictionMb} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB)`,
          growth <= 50,
          `SESSION_IDLE_MS=${figures.sessionIdleMs}` +
            (figures.remainingRuntimes
              ? `; ${figures.remainingRuntimes} sessions were not evicted`
              : ''),
        ),
      ],
      tables: [
        {
          title: `Memory: one short run on each of ${figures.sessions} sessions (${sizes.concurrency} at a time), then idle`,
          columns: [
            'RSS before',
            'peak',
            'after the runs',
            'after eviction',
            'lowest after eviction',
            'V8 heap used before → after',
            'heap after a forced GC, before → after',
            'runs/s',
            'server CPU per run',
            'failed runs',
            'runtimes left',
            'eviction',
          ],
          rows: [
            [
              `${figures.rssBeforeMb} MB`,
              `${figures.rssPeakMb} MB`,
              `${figures.rssAfterTouchMb} MB`,
              `${figures.rssAfterEvictionMb} MB`,
              `${figures.rssMinAfterEvictionMb} MB`,
              figures.heapUsedBeforeMb === null
                ? '–'
                : `${figures.heapUsedBeforeMb} → ${figures.heapUsedAfterMb} MB`,
              figures.heapRetainedAfterMb === null
                ? '–'
                : `${figures.heapRetainedBeforeMb} → ${figures.heapRetainedAfterMb} MB`,
              figures.runsPerSecond,
              `${figures.serverCpuMsPerRun} ms`,
              figures.failedRuns,
              figures.remainingRuntimes ?? '–',
              figures.evictionSeconds === null
                ? `not all evicted (SESSION_IDLE_MS=${figures.sessionIdleMs})`
                : `all evicted ${figures.evictionSeconds} s after the last run (SESSION_IDLE_MS=${figures.sessionIdleMs})`,
            ],
          ],
          note:
            `RSS of the gateway process (VmRSS). "After eviction" is the median of five samples ${sizes.settleMs / 1000} s after the last session was evicted; ` +
            'the process runs as in production (no --expose-gc, no forced GC). ' +
            'Session runtimes and V8 heap used come from preload/memory-probe.js (SessionRuntimes.size and process.memoryUsage(), every second): heap that stays up is retained; ' +
            '"heap after a forced GC" is a diagnostic taken after the RSS figure it follows (the probe runs one full GC when told on its stdin): what the server retains; ' +
            'RSS that stays up while the heap falls is memory the allocator keeps.',
        },
      ],
    };
  },
};
