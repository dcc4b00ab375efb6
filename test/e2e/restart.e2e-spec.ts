import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { FakeHermesServer } from '../fake-hermes';
import { ChatClient } from './support/chat-client';
import { POSTGRES_URL, usePostgres } from './support/test-app';

const ROOT = join(__dirname, '..', '..');

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/** Starts src/main.ts as its own process and resolves once it listens. */
function startServer(env: Record<string, string>): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    let output = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ child, url: match[1].replace('[::1]', '127.0.0.1'), exited });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

describe('Restart (e2e, real process)', () => {
  let hermes: FakeHermesServer;
  let dataDir: string;
  let env: Record<string, string>;
  const token = randomBytes(24).toString('hex');
  const servers: Server[] = [];
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    hermes = new FakeHermesServer();
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-restart-'));
    env = {
      PORT: '0',
      DATA_DIR: dataDir,
      AUTH_TOKEN: token,
      LOG_LEVEL: 'info',
      HERMES_URL: await hermes.start(),
      RUN_STATUS_POLL_MS: '100',
      ...(usePostgres
        ? {
            DATABASE_URL: POSTGRES_URL,
            DATABASE_SCHEMA: `e2e_restart_${randomBytes(4).toString('hex')}`,
          }
        : {}),
    };
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const server of servers) server.child.kill('SIGKILL');
    await hermes.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const connect = async (url: string) => {
    const client = await ChatClient.connect(url, { token });
    clients.push(client);
    return client;
  };

  it('loses nothing when killed mid-run: the reply finished upstream and the queue run afterwards', async () => {
    const first = await startServer(env);
    servers.push(first);
    const client = await connect(first.url);
    hermes.setNextScenario(
      { deltas: 30, intervalMs: 40, deltaText: 'k{i} ' },
      { deltas: 2, deltaText: 'queued{i} ' },
    );
    await client.request('run', {
      session_id: 'killed',
      input: 'long question',
      queue_id: 'first',
    });
    await client.request('run', {
      session_id: 'killed',
      input: 'next question',
      queue_id: 'second',
    });
    const seen = await client.waitFor('message.delta', (e) => e.delta === 'k5 ');

    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const upstreamRun = hermes.listRuns()[0];
    await hermes.waitForRunStatus(upstreamRun.id, 'completed', 10000);

    const second = await startServer(env);
    servers.push(second);
    const again = await connect(second.url);
    await again.request('resume', { session_id: 'killed', after_seq: seen.seq });
    const resumed = await again.waitFor('resumed');
    // Seqs handed out before the crash are never reused.
    expect(resumed.seq as number).toBeGreaterThan(seen.seq as number);

    // The recovered reply and then the queued run, in order.
    await again.waitFor('run.completed', (e) => String(e.output).startsWith('queued'), 20000);
    const res = await request(second.url)
      .get('/api/sessions/killed/messages')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    const transcript = (res.body.messages as { role: string; content: string }[]).map((m) => [
      m.role,
      m.content,
    ]);
    expect(transcript).toEqual([
      ['user', 'long question'],
      ['assistant', Array.from({ length: 30 }, (_, i) => `k${i} `).join('')],
      ['user', 'next question'],
      ['assistant', 'queued0 queued1 '],
    ]);
    // A repeated request id is still known after the restart.
    const duplicate = await again.request('run', {
      session_id: 'killed',
      input: 'again',
      queue_id: 'second',
    });
    expect(duplicate).toMatchObject({ ok: true, status: 'duplicate' });
  }, 90000);
});
