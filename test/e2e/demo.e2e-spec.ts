import { ChatRunClient } from '@hermes-chat-gateway/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * `npm run demo` as a newcomer runs it: it builds, starts the gateway with the fake Hermes
 * server, prints the console URL and the token, serves a run, and Ctrl+C (SIGINT to the whole
 * process group, as a terminal sends it) stops everything.
 */
describe('npm run demo (e2e)', () => {
  let dataDir: string;
  let demo: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-demo-'));
  });

  afterAll(async () => {
    if (demo?.pid && demo.exitCode === null && demo.signalCode === null) {
      process.kill(-demo.pid, 'SIGKILL');
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the console URL and token, serves a run through the fake, and stops on Ctrl+C', async () => {
    const port = await freePort();
    const { AUTH_TOKEN: _token, DATABASE_URL: _database, ...env } = process.env;
    const child = spawn('npm', ['run', 'demo'], {
      cwd: ROOT,
      detached: true,
      env: { ...env, PORT: String(port), DATA_DIR: dataDir, AUTH_DISABLED: '', LOG_LEVEL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo = child;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No banner in time:\n${output}`)), 90_000);
      const check = () => {
        if (!output.includes('Ctrl+C stops both.')) return;
        clearTimeout(timer);
        resolve();
      };
      child.stdout.on('data', check);
      void exited.then(() => reject(new Error(`The demo exited:\n${output}`)));
    });

    const consoleUrl = /Console\s+(\S+)/.exec(output)?.[1];
    const token = /Token\s+(\S+)/.exec(output)?.[1];
    expect(consoleUrl).toBe(`http://127.0.0.1:${port}/console/`);
    expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const page = await fetch(consoleUrl!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Hermes Chat Gateway');

    const client = new ChatRunClient({ url: `http://127.0.0.1:${port}`, token: token! });
    try {
      await client.connect();
      const completed = new Promise<string>((resolve) =>
        client.on('run.completed', (event) => resolve(event.output ?? '')),
      );
      await client.run('hello', { sessionId: 'demo-session' });
      expect(await completed).toBe(Array.from({ length: 20 }, (_, i) => `word${i} `).join(''));
    } finally {
      client.close();
    }

    process.kill(-child.pid!, 'SIGINT');
    await exited;
    const stillServing = await fetch(consoleUrl!).then(
      () => true,
      () => false,
    );
    expect(stillServing).toBe(false);
    expect(output).not.toContain('Demo failed');
  }, 150_000);
});
