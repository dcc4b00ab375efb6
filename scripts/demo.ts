/**
 * `npm run demo`: the gateway with the bundled fake Hermes server as its upstream, to try it
 * (the console, the REST API, a client) without a Hermes server. The fake runs in this process
 * on a free port; the gateway is the built server (`node dist/main.js`, which `npm run demo`
 * builds first) with the usual environment, except that its `default` profile points at the
 * fake, its data lives in `data/demo` (unless DATA_DIR is set) and it logs warnings only (unless
 * LOG_LEVEL is set), readable in a terminal (unless LOG_FORMAT is set). It prints the console's URL and the token; Ctrl+C stops both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FakeHermesServer } from '../test/fake-hermes';

const ROOT = resolve(__dirname, '..');
const STARTUP_TIMEOUT_MS = 60_000;

async function main(): Promise<void> {
  const env = process.env;
  const host = env.HOST || '127.0.0.1';
  const port = env.PORT || '8648';
  const dataDir = resolve(env.DATA_DIR || join(ROOT, 'data', 'demo'));
  const hermes = new FakeHermesServer();
  // Slow enough to watch it stream.
  hermes.setDefaultScenario({ deltas: 20, intervalMs: 50, deltaText: 'word{i} ' });
  const hermesUrl = await hermes.start();

  const gateway = spawn(process.execPath, [join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    stdio: 'inherit',
    env: {
      ...env,
      HOST: host,
      PORT: port,
      DATA_DIR: dataDir,
      LOG_LEVEL: env.LOG_LEVEL || 'warn',
      LOG_FORMAT: env.LOG_FORMAT || 'pretty',
      HERMES_URL: hermesUrl,
      HERMES_API_KEY: '',
      HERMES_PROFILES_FILE: '',
    },
  });
  let stopping: Promise<never> | undefined;
  /** `signal`: what to send the gateway now; without one, it was signalled already. */
  const stop = (code: number, signal?: NodeJS.Signals): Promise<never> =>
    (stopping ??= Promise.all([ended(gateway, signal), hermes.stop()]).then(() =>
      process.exit(code),
    ));
  // Ctrl+C reaches the gateway too (same process group): a second signal would only interrupt
  // its shutdown. A SIGTERM is for this process alone, and is passed on. `npm run` may pass a
  // signal on once more: later ones change nothing.
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0, 'SIGTERM'));
  gateway.once('exit', (code) => {
    if (!stopping) void hermes.stop().then(() => process.exit(code ?? 1));
  });

  try {
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
    await healthy(url, gateway);
    console.log(
      [
        '',
        'Hermes Chat Gateway demo: a fake Hermes server answers every run.',
        `  Console      ${url}/console/`,
        `  Token        ${await tokenOf(dataDir)}`,
        `  API docs     ${url}/api/docs`,
        `  Fake Hermes  ${hermesUrl}  (try "hello [[scenario:tools]]" or "[[fail:3]]" in a message)`,
        `  Data         ${dataDir}`,
        'Ctrl+C stops both.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    console.error(`Demo failed: ${error instanceof Error ? error.message : String(error)}`);
    await stop(1, 'SIGTERM');
  }
}

/** Waits until the gateway answers its health route (or fails if it exits first). */
async function healthy(url: string, gateway: ChildProcess): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gateway.exitCode !== null) throw new Error('The gateway exited during startup');
    const answered = await fetch(`${url}/api/health`).then(
      (response) => response.status < 500,
      () => false,
    );
    if (answered) return;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`The gateway did not answer at ${url} within ${STARTUP_TIMEOUT_MS} ms`);
}

/** The token the gateway uses: AUTH_TOKEN, or the one it generated and stored in DATA_DIR. */
async function tokenOf(dataDir: string): Promise<string> {
  const disabled = process.env.AUTH_DISABLED;
  if (disabled === 'true' || disabled === '1') return '(auth disabled: any)';
  if (process.env.AUTH_TOKEN) return process.env.AUTH_TOKEN;
  return (await readFile(join(dataDir, 'auth-token'), 'utf8')).trim();
}

/**
 * Resolves once the child has exited: signalled now, or given a few seconds to end on its own
 * before it gets a SIGTERM.
 */
function ended(child: ChildProcess, signal?: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const late = signal ? undefined : setTimeout(() => child.kill('SIGTERM'), 10_000);
    child.once('exit', () => {
      clearTimeout(late);
      done();
    });
    if (signal) child.kill(signal);
  });
}

main().catch((error: unknown) => {
  console.error(`Demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
