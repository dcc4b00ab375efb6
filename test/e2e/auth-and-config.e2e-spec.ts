import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { destroyTestApp, startTestApp, usePostgres } from './support/test-app';

const ROOT = join(__dirname, '..', '..');

/** Runs src/main.ts as a real process and returns what it printed once it exits. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')],
      { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('Auth and configuration (e2e)', () => {
  it('with AUTH_DISABLED=true serves every route without a token', async () => {
    const t = await startTestApp({ env: { AUTH_DISABLED: 'true' } });
    try {
      await request(t.url).post('/api/sessions').send({ id: 'open' }).expect(201);
      await request(t.url).get('/api/sessions/open').expect(200);
    } finally {
      await t.close();
      await destroyTestApp(t);
    }
  });

  it.each(['0', 'false', 'yes'])('keeps auth on for AUTH_DISABLED=%s', async (value) => {
    const t = await startTestApp({ env: { AUTH_DISABLED: value } });
    try {
      await request(t.url).get('/api/sessions').expect(401);
      await request(t.url).get('/api/sessions').set(t.auth).expect(200);
    } finally {
      await t.close();
      await destroyTestApp(t);
    }
  });

  it('generates a token file (mode 0600) on first start and reuses it after a restart', async () => {
    const first = await startTestApp({ env: { AUTH_TOKEN: '' } });
    const file = join(first.dataDir, 'auth-token');
    try {
      const token = (await readFile(file, 'utf8')).trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      await request(first.url)
        .get('/api/sessions')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      await first.close();

      const second = await startTestApp({ reuse: first });
      try {
        expect((await readFile(file, 'utf8')).trim()).toBe(token);
        await request(second.url)
          .get('/api/sessions')
          .set('Authorization', `Bearer ${token}`)
          .expect(200);
        await request(second.url)
          .get('/api/sessions')
          .set('Authorization', 'Bearer other')
          .expect(401);
      } finally {
        await second.close();
      }
    } finally {
      await destroyTestApp(first);
    }
  });

  it('refuses to start on a bad value, naming the variable and the rule', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gateway-config-'));
    try {
      const { code, output } = await runMain({
        DATA_DIR: dataDir,
        PORT: '70000',
        LOG_LEVEL: 'loud',
      });
      expect(code).toBe(1);
      expect(output).toContain('Invalid configuration');
      expect(output).toMatch(/PORT must not be greater than 65535/);
      expect(output).toMatch(/LOG_LEVEL must be one of the following values/);
      expect(output).not.toMatch(/at .*\.ts:\d+/); // one message, not a stack trace
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  // A SQLite setting: the PostgreSQL run of this suite has nothing to check here.
  if (!usePostgres) {
    it('sets SQLite synchronous from SQLITE_SYNCHRONOUS', async () => {
      // PRAGMA synchronous answers 1 for NORMAL (the default) and 2 for FULL.
      for (const [value, level] of [
        ['', 1],
        ['FULL', 2],
      ] as const) {
        const t = await startTestApp({ env: { SQLITE_SYNCHRONOUS: value } });
        try {
          const rows = await t.app
            .get(DataSource)
            .query<{ synchronous: number }[]>('PRAGMA synchronous');
          expect(rows[0].synchronous).toBe(level);
        } finally {
          await t.close();
          await destroyTestApp(t);
        }
      }
    });
  }
});
