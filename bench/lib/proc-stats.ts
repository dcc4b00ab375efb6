import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { BenchContext } from './types';

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux). */
const CLK_TCK = ((): number => {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds that process `pid` has used so far (its own threads, not children). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: split after its last `)`.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime), 1-based; the slice starts at field 3.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLK_TCK;
}

/** Resident set size of process `pid`, in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`No VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * CPU seconds the whole machine has been busy (all cores, /proc/stat), to tell how much of a
 * measurement window went to processes other than ours (a noisy machine skews latency).
 */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/** This process's own CPU seconds (user + system), for the client side. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** CPU seconds used between two calls to `stop`, for a set of processes. */
export class CpuMeter {
  private readonly start: number;

  constructor(private readonly read: () => number) {
    this.start = read();
  }

  static forPid(pid: number): CpuMeter {
    return new CpuMeter(() => cpuSeconds(pid));
  }

  static forSelf(): CpuMeter {
    return new CpuMeter(ownCpuSeconds);
  }

  elapsed(): number {
    return this.read() - this.start;
  }
}

/**
 * Samples a process's RSS on a timer so that the peak between `start` and `stop` is known.
 * 100 ms is fine enough for a peak that lasts as long as a run, and costs nothing measurable.
 */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peakBytes = 0;
  private lastBytes = 0;
  readonly samples: { atMs: number; bytes: number }[] = [];
  private readonly startedAt = Date.now();

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
    private readonly keepSamples = false,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  stop(): { peakBytes: number; lastBytes: number } {
    clearInterval(this.timer);
    this.sample();
    return { peakBytes: this.peakBytes, lastBytes: this.lastBytes };
  }

  get peak(): number {
    return this.peakBytes;
  }

  private sample(): void {
    let bytes: number;
    try {
      bytes = rssBytes(this.pid);
    } catch {
      return; // the process ended; the peak so far stands
    }
    this.lastBytes = bytes;
    if (bytes > this.peakBytes) this.peakBytes = bytes;
    if (this.keepSamples) this.samples.push({ atMs: Date.now() - this.startedAt, bytes });
  }
}

export const MB = 1024 * 1024;

export interface QuietResult {
  quiet: boolean;
  waitedMs: number;
  /** Cores the machine was busy in the last one-second sample. */
  busyCores: number;
}

/**
 * Waits (at most `maxWaitMs`) until the machine is nearly idle before a measurement: between
 * measurements none of our processes works, so what is busy then is someone else (a test run,
 * a build) and would skew latency. Measures anyway when it stays busy, and says so.
 */
export async function waitForQuietMachine(
  context: BenchContext,
  thresholdCores = 0.25,
): Promise<QuietResult> {
  // Quick runs only prove the harness works: their figures are not worth the wait.
  if (context.options.quick) return { quiet: true, waitedMs: 0, busyCores: NaN };
  const maxWaitMs = 60_000;
  const log = context.log;
  const began = Date.now();
  let warned = false;
  for (;;) {
    const before = machineBusySeconds();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busyCores = machineBusySeconds() - before;
    const waitedMs = Date.now() - began;
    if (busyCores < thresholdCores) return { quiet: true, waitedMs, busyCores };
    if (waitedMs >= maxWaitMs) {
      log(`  the machine is still busy (${busyCores.toFixed(2)} cores); measuring anyway`);
      return { quiet: false, waitedMs, busyCores };
    }
    if (!warned) {
      log(`  the machine is busy (${busyCores.toFixed(2)} cores used by other processes); waiting`);
      warned = true;
    }
  }
}
