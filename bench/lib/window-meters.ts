import { loadavg } from 'node:os';
import { CpuMeter, machineBusySeconds } from './proc-stats';

/** Rejects when `promise` has not settled after `timeoutMs` (a stuck measurement, not a figure). */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU used during one measured window, by process, and how busy the machine was. */
export interface WindowCpu {
  server: number | null;
  client: number;
  fake: number;
  machine: number;
  load: number;
  quiet: boolean;
  windowS: number;
}

/** The meters of one window: the gateway (none for the floor), this process, the fake, the machine. */
export class WindowMeters {
  private readonly load = loadavg()[0];
  private readonly startedAt = Date.now();
  private readonly server: CpuMeter | null;
  private readonly client = CpuMeter.forSelf();
  private readonly fake: CpuMeter;
  private readonly machine = new CpuMeter(machineBusySeconds);

  constructor(
    fakePid: number,
    serverPid: number | null,
    private readonly quiet: boolean,
  ) {
    this.fake = CpuMeter.forPid(fakePid);
    this.server = serverPid === null ? null : CpuMeter.forPid(serverPid);
  }

  read(): WindowCpu {
    return {
      server: this.server?.elapsed() ?? null,
      client: this.client.elapsed(),
      fake: this.fake.elapsed(),
      machine: this.machine.elapsed(),
      load: this.load,
      quiet: this.quiet,
      windowS: (Date.now() - this.startedAt) / 1000,
    };
  }
}
