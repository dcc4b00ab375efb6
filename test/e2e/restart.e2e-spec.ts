import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import sqlite3 from 'sqlite3';
import request from 'supertest';
import { FakeHermesServer } from '../fake-hermes';
import { OpenClients } from './support/chat-client';
import { startServer, type ServerProcess } from './support/server-process';
import { POSTGRES_URL, usePostgres } from './support/test-app';

/** Reads a transcript straight from the database, while no server is running. */
async function storedMessages(
  env: Record<string, string>,
  sessionId: string,
): Promise<[string, string][]> {
  const sql = 'SELECT role, content FROM messages WHERE session_id = $1 ORDER BY id';
  if (usePostgres) {
    const client = new Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`SET search_path TO "${env.DATABASE_SCHEMA}"`);
      const rows = await client.query<{ role: string; content: string }>(sql, [sessionId]);
      return rows.rows.map((row) => [row.role, row.content]);
    } finally {
      await client.end();
    }
  }
  const db = new sqlite3.Database(join(env.DATA_DIR, 'gateway.sqlite'), sqlite3.OPEN_READONLY);
  try {
    const rows = await new Promise<{ role: string; content: string }[]>((resolve, reject) =>
      db.all(
        sql.replace('$1', '?'),
        [sessionId],
        (error, result: { role: string; content: string }[]) =>
          error ? reject(error) : resolve(result),
      ),
    );
    return rows.map((row) => [row.role, row.content]);
  } finally {
    db.close();
  }
}

describe('Restart (e2e, real process)', () => {
  let hermes: FakeHermesServer;
  let dataDir: string;
  let env: Record<string, string>;
  const token = randomBytes(24).toString('hex');
  const servers: ServerProcess[] = [];
  const clients = new OpenClients();

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
    clients.closeAll();
    for (const server of servers) server.child.kill('SIGKILL');
    await hermes.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const connect = async (url: string) => {
    return clients.connect(url, { token });
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
  it('on SIGTERM stores the partial reply, leaves the upstream run going, and the next start finishes it', async () => {
    const first = await startServer(env);
    servers.push(first);
    const client = await connect(first.url);
    hermes.setNextScenario({ deltas: 25, intervalMs: 40, deltaText: 't{i} ' });
    await client.request('run', { session_id: 'terminated', input: 'question' });
    await client.waitFor('message.delta', (e) => e.delta === 't3 ');
    const upstreamRun = hermes.lastRun!;
    hermes.clearRequests();

    first.child.kill('SIGTERM');
    await first.exited;
    expect(first.output()).toMatch(/Stopped \(SIGTERM\): 1 runs left to recover/);
    // A clean stop: nothing logged at error level (the database closed without complaint).
    expect(first.output()).not.toMatch(/"level":(50|60)/);
    // What had streamed is stored: the partial reply is in the database before any restart.
    const stored = await storedMessages(env, 'terminated');
    expect(stored[0]).toEqual(['user', 'question']);
    expect(stored[1][0]).toBe('assistant');
    expect(stored[1][1]).toMatch(/^t0 t1 t2 t3 /);
    // The upstream run was left alone: no stop, and it is still going.
    expect(hermes.requestsTo('/v1/runs/').filter((r) => r.path.endsWith('/stop'))).toHaveLength(0);
    expect(upstreamRun.status).toBe('running');

    const second = await startServer(env);
    servers.push(second);
    const again = await connect(second.url);
    await again.request('resume', { session_id: 'terminated' });
    // Recovery may finish before or after the resume: wait for the stored reply either way.
    const deadline = Date.now() + 20000;
    let res = await request(second.url)
      .get('/api/sessions/terminated/messages')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    while (res.body.messages.at(-1)?.finish_reason !== 'stop' && Date.now() < deadline) {
      await again.waitFor('run.completed', () => true, 200).catch(() => undefined);
      res = await request(second.url)
        .get('/api/sessions/terminated/messages')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
    }
    expect((res.body.messages as { content: string }[]).map((m) => m.content)).toEqual([
      'question',
      Array.from({ length: 25 }, (_, i) => `t${i} `).join(''),
    ]);
  }, 90000);
});
