import { Logger } from '@nestjs/common';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, Repository } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { serialWrite } from '../../database/serial-transactions';
import { HermesProfiles } from '../hermes-profiles';
import { EphemeralSessionCleanup, HermesCleanupOptions } from './ephemeral-session-cleanup';
import { cleanupCommandEnv } from './ephemeral-session-cleanup.command';
import { HermesCleanupTask } from './hermes-cleanup-task.entity';

/** Stands in for the `hermes` CLI: records each call, fails for `eph_fail*`, "not found" for `eph_gone*`. */
const FAKE_HERMES = `#!/bin/sh
echo "$HERMES_HOME|$(pwd)|$*" >> "$HERMES_HOME/calls.log"
case "$3" in
  eph_fail*) echo "database is locked" >&2; exit 2 ;;
  eph_gone*) echo "Session '$3' not found" >&2; exit 1 ;;
esac
echo "Deleted session $3"
`;

const OPTIONS: Partial<HermesCleanupOptions> = {
  maxAttempts: 3,
  baseDelayMs: 1000,
  maxDelayMs: 1500,
  pollIntervalMs: 20,
  commandTimeoutMs: 5000,
};

describe('EphemeralSessionCleanup', () => {
  let dir: string;
  let home: string;
  let dataSource: DataSource;
  let repo: Repository<HermesCleanupTask>;
  let profiles: HermesProfiles;
  let cleanup: EphemeralSessionCleanup;

  const calls = (): string[] => {
    const log = join(home, 'calls.log');
    return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  };

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hermes-cleanup-'));
    home = join(dir, 'home');
    mkdirSync(home);
    const script = join(dir, 'fake-hermes');
    writeFileSync(script, FAKE_HERMES);
    chmodSync(script, 0o755);
    const file = join(dir, 'profiles.json');
    writeFileSync(
      file,
      JSON.stringify({ profiles: { local: { url: 'http://h:1', home, cleanupCommand: script } } }),
    );
    profiles = new HermesProfiles({
      hermes: {
        url: 'http://h:0',
        profilesFile: file,
        contextLength: 128000,
        requestTimeoutMs: 1000,
        streamIdleTimeoutMs: 1000,
      },
    } as AppConfig);
    dataSource = await new DataSource({
      type: 'sqlite',
      database: ':memory:',
      entities: [HermesCleanupTask],
      synchronize: true,
    }).initialize();
    repo = dataSource.getRepository(HermesCleanupTask);
    cleanup = new EphemeralSessionCleanup(repo, profiles, OPTIONS);
  });
  afterEach(async () => {
    await cleanup.onModuleDestroy();
    await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('queues a session once, and only for a profile with a home', async () => {
    expect(await cleanup.enqueue('local', 'eph_1')).toBe(true);
    expect(await cleanup.enqueue('local', 'eph_1')).toBe(true);
    expect(await cleanup.enqueue('default', 'eph_2')).toBe(false);
    const rows = await repo.find();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      profile: 'local',
      upstreamSessionId: 'eph_1',
      attempts: 0,
      lastError: null,
    });
  });

  it('deletes due sessions with the CLI in the profile home, then forgets them', async () => {
    await cleanup.enqueue('local', 'eph_ok');
    await cleanup.enqueue('local', 'eph_gone');
    const result = await cleanup.runDue();
    expect(result).toEqual({ deleted: 2, retrying: 0, gaveUp: 0 });
    expect(calls()).toEqual([
      `${home}|${home}|sessions delete eph_ok --yes`,
      `${home}|${home}|sessions delete eph_gone --yes`,
    ]);
    expect(await repo.count()).toBe(0);
  });

  it('retries failures with exponential backoff, then gives up and keeps the failure visible', async () => {
    await cleanup.enqueue('local', 'eph_fail');
    const t0 = Date.now() + 10;

    expect(await cleanup.runDue(t0)).toEqual({ deleted: 0, retrying: 1, gaveUp: 0 });
    let [task] = await cleanup.pending();
    expect(task).toMatchObject({ attempts: 1, nextAttemptAt: (t0 + 1000) / 1000 });
    expect(task.lastError).toContain('database is locked');

    // Not due yet: nothing runs.
    expect(await cleanup.runDue(t0 + 999)).toEqual({ deleted: 0, retrying: 0, gaveUp: 0 });
    expect(calls()).toHaveLength(1);

    const t1 = t0 + 1000;
    expect(await cleanup.runDue(t1)).toEqual({ deleted: 0, retrying: 1, gaveUp: 0 });
    [task] = await cleanup.pending();
    expect(task).toMatchObject({ attempts: 2, nextAttemptAt: (t1 + 1500) / 1000 }); // 2000 capped

    expect(await cleanup.runDue(t1 + 1500)).toEqual({ deleted: 0, retrying: 0, gaveUp: 1 });
    expect(await cleanup.pending()).toEqual([]);
    const [failed] = await cleanup.failures();
    expect(failed).toMatchObject({
      upstreamSessionId: 'eph_fail',
      attempts: 3,
      nextAttemptAt: null,
    });
    expect(failed.lastError).toMatch(/exit 2: database is locked/);

    expect(await cleanup.runDue(t1 + 1e9)).toEqual({ deleted: 0, retrying: 0, gaveUp: 0 });
    expect(calls()).toHaveLength(3);
  });

  it('runs due tasks from its timer once the application has started', async () => {
    await cleanup.enqueue('local', 'eph_ok');
    const runDue = jest.spyOn(cleanup, 'runDue');
    const firstPass = new Promise<unknown>((resolve) =>
      runDue.mockImplementationOnce(function (this: EphemeralSessionCleanup, now?: number) {
        const pass = EphemeralSessionCleanup.prototype.runDue.call(this, now);
        resolve(pass);
        return pass;
      }),
    );
    cleanup.onApplicationBootstrap();
    expect(await firstPass).toEqual({ deleted: 1, retrying: 0, gaveUp: 0 });
    expect(await repo.count()).toBe(0);
  });

  it('writes the task table only under the SQLite write lock', async () => {
    let release!: () => void;
    const held = serialWrite(dataSource, () => new Promise<void>((done) => (release = done)));
    const queued = cleanup.enqueue('local', 'eph_locked');
    // Reads are not locked: the insert is visibly waiting for the writer ahead of it.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await repo.count()).toBe(0);
    release();
    await held;
    expect(await queued).toBe(true);
    expect(await repo.count()).toBe(1);
  });

  it('gives the CLI only the environment it needs, with the profile home', () => {
    const env = cleanupCommandEnv('/srv/hermes', {
      PATH: '/usr/bin',
      HOME: '/home/gw',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TMPDIR: '/tmp/gw',
      HERMES_HOME: '/gateway/own/home',
      HERMES_API_KEY: 'secret',
      DATABASE_URL: 'postgres://user:pw@db/gw',
    });
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/gw',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TMPDIR: '/tmp/gw',
      HERMES_HOME: '/srv/hermes',
    });
  });

  it('is inert when no profile has a home', async () => {
    const withoutHome = new HermesProfiles({
      hermes: {
        url: 'http://h:0',
        contextLength: 128000,
        requestTimeoutMs: 1000,
        streamIdleTimeoutMs: 1000,
      },
    } as AppConfig);
    const find = jest.spyOn(repo, 'find');
    const inert = new EphemeralSessionCleanup(repo, withoutHome, OPTIONS);
    const setInterval = jest.spyOn(global, 'setInterval');
    inert.onApplicationBootstrap();
    expect(setInterval).not.toHaveBeenCalled();
    expect(inert.active).toBe(false);
    expect(await inert.enqueue('default', 'eph_1')).toBe(false);
    expect(await inert.runDue()).toEqual({ deleted: 0, retrying: 0, gaveUp: 0 });
    expect(find).not.toHaveBeenCalled();
    expect(await repo.count()).toBe(0);
    setInterval.mockRestore();
  });
});
