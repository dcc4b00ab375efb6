import { execFile, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * The server compiled with `tsc` into a temporary folder (Nest's CLI plugins aside), for tests
 * that time how fast it starts or fails: ts-node spends several seconds compiling before the
 * first line of `main.ts` runs. Its own folder, so that a concurrent `nest build` (the demo
 * test) cannot delete it under a running test. Answers the path of its `main.js`.
 */
export async function buildServer(): Promise<{ main: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gateway-build-'));
  await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      dir,
      '--tsBuildInfoFile',
      join(dir, 'tsconfig.tsbuildinfo'),
    ],
    { cwd: ROOT },
  );
  return { main: join(dir, 'main.js'), dir };
}

export interface ExitedRun {
  /** Null when it had to be killed after `timeoutMs`. */
  code: number | null;
  output: string;
  ms: number;
}

/**
 * Runs the built server with `env` on top of this process's environment until it exits, or
 * until its output matches `stopWhen` (then it is sent SIGTERM); as `user` when given (the
 * test runs as root).
 */
export function runUntilExit(
  main: string,
  env: Record<string, string>,
  timeoutMs = 30_000,
  stopWhen?: RegExp,
  user?: { uid: number; gid: number },
): Promise<ExitedRun> {
  const started = Date.now();
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    ...user,
    // Out of the repository, packages are found through NODE_PATH.
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (stopWhen?.test(output) && child.exitCode === null) child.kill('SIGTERM');
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    }),
  );
}
