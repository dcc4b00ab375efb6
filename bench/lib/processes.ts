import { ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { makeTempDir, trackChild } from './cleanup';
import type { FakeChildOptions, FakeReply, FakeRequest, FakeRunInfo } from './fake-hermes.protocol';
import { sleep } from './stats';

export const REPO_ROOT = resolve(__dirname, '..', '..');
const PRELOAD_DIR = join(REPO_ROOT, 'bench', 'preload');

/** A port nobody listens on right now (the OS picks it; we close and hand it over). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveExit(true);
    });
  });
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 5000);
}

/** The fake Hermes API server, in its own process. */
export class FakeHermes {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: FakeReply) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.on('message', (reply: FakeReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
  }

  static async start(options: FakeChildOptions = {}): Promise<FakeHermes> {
    const logDir = makeTempDir('fake');
    const log = createWriteStream(join(logDir, 'fake.log'));
    const child = fork(join(__dirname, 'fake-hermes.child.ts'), [JSON.stringify(options)], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, TS_NODE_PROJECT: join(REPO_ROOT, 'bench', 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    trackChild(child);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(
        () => reject(new Error('fake-hermes did not start in 30 s')),
        30_000,
      );
      child.once('message', (reply: FakeReply) => {
        clearTimeout(timer);
        if (reply.type === 'ready') resolveUrl(reply.url);
        else reject(new Error(`fake-hermes: unexpected first message ${reply.type}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`fake-hermes exited with ${code}: ${tail(join(logDir, 'fake.log'))}`));
      });
    });
    return new FakeHermes(child, url);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Every run the fake still holds (creation and last update in unix seconds). */
  async runs(): Promise<FakeRunInfo[]> {
    const reply = await this.ask({ type: 'runs' });
    return reply.type === 'runs' ? reply.runs : [];
  }

  async reset(): Promise<void> {
    await this.ask({ type: 'reset' });
  }

  /** Dies at once, as an upstream that crashes (SIGKILL): its sockets drop, its port closes. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await waitForExit(this.child, 5000);
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ id: this.nextId++, type: 'stop' });
    if (!(await waitForExit(this.child, 5000))) await terminate(this.child, 2000);
  }

  private ask(request: Omit<FakeRequest, 'id'>): Promise<FakeReply> {
    const id = this.nextId++;
    return new Promise((resolveReply, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fake-hermes: no answer to ${request.type}`)),
        30_000,
      );
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolveReply(reply);
      });
      this.child.send({ ...request, id });
    });
  }
}

export interface GatewayOptions {
  /** Absolute path of the built server (`dist/main.js`). */
  dist: string;
  hermesUrl: string;
  /** Reuse a data directory (and so its database), e.g. after seeding it. */
  dataDir?: string;
  /** Extra or overriding environment variables of the gateway. */
  env?: Record<string, string>;
  /** Modules of bench/preload to load before the server (`node -r`). */
  preloads?: string[];
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  /** Called with each line the server prints (pino JSON, or a preload's `BENCH_…` line). */
  onLine?: (line: string) => void;
  /** Give the server a stdin pipe (for a preload that takes commands; see `tell`). */
  stdin?: boolean;
}

/**
 * The built gateway as a child process: `node dist/main.js` directly (not through npm), so that
 * the pid we sample is the server itself. It gets a temporary data dir (SQLite file), a random
 * token, a free port, and only the environment we give it.
 */
/**
 * The benchmark's clients are load generators, not hostile ones: one socket carries many
 * sessions' requests (memory: 10,000 sessions over 10 sockets; run-start: runs back to back), far
 * above the per-socket event rate a browser tab needs, so the rate limit is lifted. The
 * hostile-client benchmark puts the defaults back (`DEFAULT_LIMITS`).
 */
const LOAD_GENERATOR_LIMITS: Record<string, string> = {
  SOCKET_EVENTS_PER_SECOND: '1000000',
  SOCKET_EVENT_BURST: '1000000',
};

/** The gateway's own defaults for the limits lifted above (an empty value means the default). */
export const DEFAULT_LIMITS: Record<string, string> = Object.fromEntries(
  Object.keys(LOAD_GENERATOR_LIMITS).map((name) => [name, '']),
);

export class Gateway {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly token: string,
    readonly dataDir: string,
    readonly options: GatewayOptions,
    private readonly log: WriteStream,
    readonly logFile: string,
    /** Wall clock (ms) when the process was spawned, to place profile samples. */
    readonly spawnedAtMs: number,
  ) {}

  static async start(options: GatewayOptions): Promise<Gateway> {
    if (!existsSync(options.dist)) {
      throw new Error(`${options.dist} does not exist: build the server first (npm run build)`);
    }
    const dataDir = options.dataDir ?? makeTempDir('gateway');
    const port = await freePort();
    const token = options.env?.AUTH_TOKEN ?? randomBytes(24).toString('hex');
    const logFile = join(dataDir, `gateway-${port}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      HERMES_URL: options.hermesUrl,
      // Large enough that no scenario but `compression` ever crosses the threshold.
      HERMES_CONTEXT_LENGTH: '100000000',
      BENCH_PARENT_PID: String(process.pid),
      BENCH_DIST_DIR: resolve(options.dist, '..'),
      ...LOAD_GENERATOR_LIMITS,
      ...options.env,
      AUTH_TOKEN: token,
    };
    const preloads = ['parent-watch.js', ...(options.preloads ?? [])].flatMap((name) => [
      '-r',
      join(PRELOAD_DIR, name),
    ]);
    const spawnedAtMs = Date.now();
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), ...preloads, options.dist],
      {
        cwd: dataDir,
        env,
        stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      },
    );
    trackChild(child);
    const onData = lineSplitter((line) => {
      log.write(`${line}\n`);
      options.onLine?.(line);
    });
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const url = `http://127.0.0.1:${port}`;
    const gateway = new Gateway(child, url, token, dataDir, options, log, logFile, spawnedAtMs);
    await gateway.waitHealthy(child);
    return gateway;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Writes a line to the server's stdin (open only with `stdin: true`; read by a preload). */
  tell(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  get dbPath(): string {
    return join(this.dataDir, 'gateway.sqlite');
  }

  get auth(): { Authorization: string } {
    return { Authorization: `Bearer ${this.token}` };
  }

  /** A clean shutdown (SIGTERM: the server writes what it holds), then SIGKILL after 15 s. */
  stop(): Promise<void> {
    this.stopping ??= terminate(this.child, 15_000).then(
      () => new Promise<void>((resolveEnd) => this.log.end(() => resolveEnd())),
    );
    return this.stopping;
  }

  /** Dies at once, as on a crash or an OOM kill (SIGKILL); resolves once it has exited. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await waitForExit(this.child, 5000);
    this.stopping ??= new Promise<void>((resolveEnd) => this.log.end(() => resolveEnd()));
    await this.stopping;
  }

  /** The same data dir and token on a new process (e.g. after seeding the database). */
  async restart(overrides: Partial<GatewayOptions> = {}): Promise<Gateway> {
    await this.stop();
    return Gateway.start({
      ...this.options,
      ...overrides,
      dataDir: this.dataDir,
      env: { ...this.options.env, ...overrides.env, AUTH_TOKEN: this.token },
    });
  }

  private async waitHealthy(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`The gateway exited during startup:\n${tail(this.logFile)}`);
      }
      try {
        const response = await fetch(`${this.url}/api/health`);
        await response.arrayBuffer();
        if (response.status < 500) return;
      } catch {
        // Not listening yet.
      }
      await sleep(50);
    }
    throw new Error(`The gateway did not answer /api/health within 60 s:\n${tail(this.logFile)}`);
  }
}

function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
  };
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
