import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { buildServer, runUntilExit, type ExitedRun } from './support/built-server';
import { POSTGRES_URL } from './support/test-app';

const PASSWORD = 'pw-never-printed';
/** The uid and gid of `nobody` on Debian. */
const NOBODY = 65534;
/** Failing at once: the built server loads in a second or two, even on a busy machine. */
const PROMPT_MS = 10_000;

function listening(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

/** A port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listening(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The process failed the way an operator should see it: a non-zero exit in time, and exactly
 * one line naming the setting, which is `expected`; no stack, no password.
 */
function expectOneLine(run: ExitedRun, setting: string, expected: RegExp, withinMs = PROMPT_MS) {
  expect(run.code).not.toBe(0);
  expect(run.code).not.toBeNull();
  expect(run.ms).toBeLessThan(withinMs);
  const naming = run.output.split('\n').filter((line) => line.includes(`${setting}=`));
  expect(naming).toHaveLength(1);
  expect(naming[0]).toMatch(expected);
  // A stack printed raw, or inside a JSON log line.
  expect(run.output).not.toMatch(/^\s+at /m);
  expect(run.output).not.toMatch(/\\n\s+at |"stack":/);
  expect(run.output).not.toContain('Startup failed');
  expect(run.output).not.toContain(PASSWORD);
}

/**
 * What a newcomer or an operator gets wrong at the first start (e2e: the built server as a
 * process): each ends it at once, with one line that names the setting and its value.
 */
describe('startup errors (e2e, real process)', () => {
  let main: string;
  let buildDir: string;
  let dataDir: string;
  const schemas: string[] = [];
  const base = () => ({
    DATA_DIR: dataDir,
    AUTH_TOKEN: randomBytes(24).toString('hex'),
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    DATABASE_URL: '',
    DATABASE_SCHEMA: '',
    REDIS_URL: '',
    HERMES_PROFILES_FILE: '',
  });

  beforeAll(async () => {
    ({ main, dir: buildDir } = await buildServer());
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-startup-'));
  }, 180_000);

  afterAll(async () => {
    await rm(buildDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
    if (schemas.length === 0) return;
    const client = new Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  });

  it('PostgreSQL on a closed port', async () => {
    const port = await closedPort();
    const run = await runUntilExit(main, {
      ...base(),
      DATABASE_URL: `postgres://gateway:${PASSWORD}@127.0.0.1:${port}/test`,
    });
    expectOneLine(
      run,
      'DATABASE_URL',
      new RegExp(
        `^DATABASE_URL=postgres://gateway:\\*\\*\\*@127\\.0\\.0\\.1:${port}/test: cannot connect \\(connection refused\\)$`,
      ),
    );
  });

  it('a password with characters that end the user info (# ? /): masked all the same', async () => {
    const port = await closedPort();
    const password = `${PASSWORD}#?/`;
    const run = await runUntilExit(main, {
      ...base(),
      DATABASE_URL: `postgres://gateway:${password}@127.0.0.1:${port}/test`,
    });
    expectOneLine(
      run,
      'DATABASE_URL',
      new RegExp(`^DATABASE_URL=postgres://gateway:\\*\\*\\*@127\\.0\\.0\\.1:${port}/test: `),
    );
  });

  it('PostgreSQL without the database named', async () => {
    const url = new URL(POSTGRES_URL);
    url.password = PASSWORD;
    url.pathname = '/no_such_database';
    const run = await runUntilExit(main, { ...base(), DATABASE_URL: url.toString() });
    expectOneLine(
      run,
      'DATABASE_URL',
      /^DATABASE_URL=postgres:\/\/[^:]+:\*\*\*@[^ ]+\/no_such_database: cannot connect \(database "no_such_database" does not exist\)$/,
    );
  });

  it('PostgreSQL on a host that never answers: no longer than the connect timeout', async () => {
    const silent = createServer(() => undefined);
    const port = await listening(silent);
    try {
      const run = await runUntilExit(main, {
        ...base(),
        DATABASE_URL: `postgres://gateway@127.0.0.1:${port}/test`,
      });
      // The 5 s connect timeout, then the same prompt exit.
      expectOneLine(run, 'DATABASE_URL', /: cannot connect \(no answer within 5 s\)$/, 15_000);
    } finally {
      silent.close();
    }
  });

  it('DATA_DIR under a regular file', async () => {
    const file = join(dataDir, 'a-file');
    await writeFile(file, '');
    const run = await runUntilExit(main, { ...base(), DATA_DIR: join(file, 'data') });
    expectOneLine(
      run,
      'DATA_DIR',
      new RegExp(`^DATA_DIR=${file}/data: cannot create the folder \\(ENOTDIR: .*\\)$`),
    );
  });

  it('DATA_DIR under a regular file, on PostgreSQL: where the generated token would be kept', async () => {
    const file = join(dataDir, 'another-file');
    await writeFile(file, '');
    const schema = `e2e_startup_${randomBytes(4).toString('hex')}`;
    schemas.push(schema);
    const run = await runUntilExit(main, {
      ...base(),
      AUTH_TOKEN: '',
      DATA_DIR: join(file, 'data'),
      DATABASE_URL: POSTGRES_URL,
      DATABASE_SCHEMA: schema,
    });
    expectOneLine(
      run,
      'DATA_DIR',
      new RegExp(
        `^DATA_DIR=${file}/data: cannot keep the generated token in .* \\(ENOTDIR: .*\\)$`,
      ),
    );
  });

  // root writes anywhere, so as root the server runs as `nobody`, for whom the folder is
  // read-only too (the build and the folders above it opened to others for the test).
  it('a DATA_DIR that is not writable', async () => {
    const root = process.getuid?.() === 0;
    const dir = await mkdtemp(join(dataDir, 'read-only-'));
    await chmod(dir, 0o555);
    if (root) await Promise.all([chmod(dataDir, 0o711), chmod(buildDir, 0o755)]);
    try {
      const nobody = root ? { uid: NOBODY, gid: NOBODY } : undefined;
      const run = await runUntilExit(main, { ...base(), DATA_DIR: dir }, 30_000, undefined, nobody);
      expectOneLine(
        run,
        'DATA_DIR',
        new RegExp(`^DATA_DIR=${dir}: not writable \\(EACCES: .*\\)$`),
      );
    } finally {
      await chmod(dir, 0o700);
      if (root) await Promise.all([chmod(dataDir, 0o700), chmod(buildDir, 0o700)]);
    }
  });

  it('a port in use', async () => {
    const taken = createServer();
    const port = await listening(taken);
    try {
      const run = await runUntilExit(main, { ...base(), PORT: String(port), HOST: '127.0.0.1' });
      expectOneLine(
        run,
        'PORT',
        new RegExp(`^PORT=${port} \\(HOST=127\\.0\\.0\\.1\\) is already in use$`),
      );
      expect(run.output).not.toContain('Listening on');
    } finally {
      taken.close();
    }
  });

  it('Redis on a closed port (several instances, on PostgreSQL)', async () => {
    const port = await closedPort();
    const schema = `e2e_startup_${randomBytes(4).toString('hex')}`;
    schemas.push(schema);
    const run = await runUntilExit(main, {
      ...base(),
      DATABASE_URL: POSTGRES_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${port}`,
    });
    expectOneLine(
      run,
      'REDIS_URL',
      new RegExp(
        `^REDIS_URL=redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}: cannot connect \\(connection refused\\)$`,
      ),
    );
  });

  it('a Hermes profiles file that is not valid', async () => {
    const file = join(dataDir, 'profiles.yaml');
    await writeFile(file, 'profiles:\n  work: { url: not-a-url, apiKey: ' + PASSWORD + ' }\n');
    const run = await runUntilExit(main, { ...base(), HERMES_PROFILES_FILE: file });
    expectOneLine(
      run,
      'HERMES_PROFILES_FILE',
      new RegExp(`^HERMES_PROFILES_FILE=${file}: profiles\\.work\\.url must be a URL`),
    );
  });

  it('starts anyway when the upstream does not answer, and says so in one warning', async () => {
    const port = await closedPort();
    const run = await runUntilExit(
      main,
      { ...base(), HERMES_URL: `http://127.0.0.1:${port}` },
      30_000,
      /does not answer/,
    );
    // Stopped (SIGTERM) once it had warned, long before the timeout.
    expect(run.ms).toBeLessThan(30_000);
    expect(run.output).toContain('Listening on');
    const warnings = run.output.split('\n').filter((line) => line.includes('does not answer'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`Hermes upstream default at http://127.0.0.1:${port} (`);
    expect(warnings[0]).toContain('npm run fake-hermes');
  });
});
