import { testDatabase, type TestDatabase } from '../../testing/test-database';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TokenCounter } from '../../tokens/token-counter';
import { TypeOrmSessionRepository } from '../../sessions/typeorm-session.repository';
import { EventLog } from '../event-log/event-log.service';
import { EventLogStore } from '../event-log/event-log.store';
import { RunPipeline } from '../runs/run-pipeline';
import { RunStore } from '../runs/run.store';
import { SessionEmitter } from '../session-emitter';
import { TranscriptStore } from '../../sessions/transcript.store';
import { SessionRuntime } from './session-runtime';
import { SessionRuntimes } from './session-runtimes';
import { configFor } from '../../config/testing/config-for';

/** setTimeout's maximum: the log's own flush timer never fires during a test. */
const NEVER = 2 ** 31 - 1;
const MINUTE = 60 * 1000;

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('SessionRuntimes (real EventLog on SQLite in memory)', () => {
  const tokens = new TokenCounter();
  let db: TestDatabase;
  let dataSource: DataSource;
  let repository: TypeOrmSessionRepository;
  let transcripts: TranscriptStore;
  let log: EventLog;
  let emitter: SessionEmitter;
  let runtimes: SessionRuntimes;
  /** Sockets in each session's room, as the namespace would count them. */
  let listeners: Map<string, number>;

  const createSessions = async (...ids: string[]): Promise<void> => {
    for (const id of ids) await repository.create({ id });
  };

  /** A runtime that was last used `ago` ms ago. */
  const acquireUsed = async (sessionId: string, ago: number): Promise<SessionRuntime> => {
    const runtime = await runtimes.acquire(sessionId);
    runtime.lastUsed = Date.now() - ago;
    return runtime;
  };

  /** A run in progress: only its presence matters to eviction. */
  const activeRun = (): RunPipeline => Object.create(RunPipeline.prototype) as RunPipeline;

  beforeAll(async () => {
    db = await testDatabase();
    dataSource = db.dataSource;
    repository = new TypeOrmSessionRepository(dataSource);
    transcripts = new TranscriptStore(db.sql, tokens);
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM sessions');
    log = new EventLog(db.sql, db.commit, transcripts, db.leases, { flushIntervalMs: NEVER });
    emitter = new SessionEmitter(log);
    listeners = new Map();
    jest.spyOn(emitter, 'listeners').mockImplementation((id) => listeners.get(id) ?? 0);
    runtimes = new SessionRuntimes(
      log,
      transcripts,
      new RunStore(db.sql),
      emitter,
      db.leases,
      configFor(),
    );
  });

  afterEach(async () => {
    jest.useRealTimers();
    jest.restoreAllMocks();
    runtimes.onModuleDestroy();
    await log.closeAll();
  });

  afterAll(async () => {
    tokens.onModuleDestroy();
    await db?.destroy();
  });

  it('acquires one runtime per session, touches it and opens its event log', async () => {
    await createSessions('s1');
    const first = await acquireUsed('s1', 10 * MINUTE);
    const before = first.lastUsed;

    const again = await runtimes.acquire('s1');

    expect(again).toBe(first);
    expect(again.lastUsed).toBeGreaterThan(before);
    expect(runtimes.size).toBe(1);
    expect(log.isOpen('s1')).toBe(true);
    expect(log.latestSeq('s1')).toBe(0);
  });

  it('evicts only sessions without an active run, without listeners and idle long enough', async () => {
    await createSessions('idle', 'idle2', 'working', 'watched', 'recent');
    await acquireUsed('idle', 10_000);
    await acquireUsed('idle2', 10_000);
    (await acquireUsed('working', 10_000)).activeRun = activeRun();
    await acquireUsed('watched', 10_000);
    await acquireUsed('recent', 1_000);
    listeners.set('watched', 2);

    expect(await runtimes.evictIdle(5_000)).toBe(2);

    const kept = ['working', 'watched', 'recent'];
    expect([...runtimes.all()].map((runtime) => runtime.sessionId).sort()).toEqual(
      [...kept].sort(),
    );
    expect(runtimes.peek('idle')).toBeUndefined();
    expect(runtimes.peek('idle2')).toBeUndefined();
    expect(['idle', 'idle2', ...kept].map((id) => [id, log.isOpen(id)])).toEqual([
      ['idle', false],
      ['idle2', false],
      ['working', true],
      ['watched', true],
      ['recent', true],
    ]);

    // Once the run ended and the room emptied, they go too.
    runtimes.peek('working')!.activeRun = undefined;
    listeners.clear();
    expect(await runtimes.evictIdle(5_000)).toBe(2);
    expect([...runtimes.all()].map((runtime) => runtime.sessionId)).toEqual(['recent']);
  });

  it('keeps sessions for five minutes by default', async () => {
    await createSessions('four', 'six');
    await acquireUsed('four', 4 * MINUTE);
    await acquireUsed('six', 6 * MINUTE);

    expect(await runtimes.evictIdle()).toBe(1);
    expect(runtimes.peek('four')).toBeDefined();
    expect(runtimes.peek('six')).toBeUndefined();
  });

  it('closes the event log on eviction; a new acquire reopens it and seqs continue', async () => {
    await createSessions('s1');
    await acquireUsed('s1', 10_000);
    for (const delta of ['a', 'b', 'c']) log.append('s1', 'message.delta', { delta });

    expect(await runtimes.evictIdle(5_000)).toBe(1);
    expect(log.isOpen('s1')).toBe(false);
    // Closing wrote the events and the exact last seq.
    const [head] = await dataSource.query<{ last_stored_seq: number }[]>(
      'SELECT last_stored_seq FROM session_event_heads WHERE session_id = ?',
      ['s1'],
    );
    expect(head.last_stored_seq).toBe(3);

    const fresh = await runtimes.acquire('s1');
    expect(fresh.isWorking).toBe(false);
    expect(log.append('s1', 'message.delta', { delta: 'd' }).seq).toBe(4);
    const replay = await log.replay('s1', 0);
    expect(replay.complete).toBe(true);
    expect(replay.events.map((event) => [event.seq, event.delta])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
  });

  it('goes on evicting the others when closing one log fails, and says so', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await createSessions('s1', 's2');
    await acquireUsed('s1', 10_000);
    await acquireUsed('s2', 10_000);
    log.append('s1', 'message.delta', { delta: 'a' });
    jest
      .spyOn(EventLogStore.prototype, 'write')
      .mockRejectedValueOnce(new Error('database is locked'));

    expect(await runtimes.evictIdle(5_000)).toBe(2);

    expect(runtimes.size).toBe(0);
    expect(log.isOpen('s2')).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('Closing the event log of s1'));
  });

  it('sweeps every minute once initialised, and stops when destroyed', () => {
    jest.useFakeTimers();
    const evict = jest.spyOn(runtimes, 'evictIdle').mockResolvedValue(0);

    runtimes.onModuleInit();
    jest.advanceTimersByTime(MINUTE - 1);
    expect(evict).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(evict).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(MINUTE);
    expect(evict).toHaveBeenCalledTimes(2);

    runtimes.onModuleDestroy();
    jest.advanceTimersByTime(5 * MINUTE);
    expect(evict).toHaveBeenCalledTimes(2);
  });
});

describe('SessionRuntime', () => {
  it('runs serialised tasks one at a time, in order, even when one rejects', async () => {
    const runtime = new SessionRuntime('s1');
    const trace: string[] = [];
    const gate = deferred();
    const entered = deferred();

    const first = runtime.serialise(async () => {
      trace.push('1 start');
      entered.resolve();
      await gate.promise;
      trace.push('1 end');
      return 1;
    });
    const second = runtime.serialise(async () => {
      trace.push('2 start');
      await Promise.resolve();
      trace.push('2 end');
      throw new Error('task 2 failed');
    });
    const third = runtime.serialise(() => {
      trace.push('3 start');
      return Promise.resolve(3);
    });

    await entered.promise;
    expect(trace).toEqual(['1 start']);
    gate.resolve();

    await expect(first).resolves.toBe(1);
    await expect(second).rejects.toThrow('task 2 failed');
    await expect(third).resolves.toBe(3);
    expect(trace).toEqual(['1 start', '1 end', '2 start', '2 end', '3 start']);
  });

  it('runs a task queued after a synchronous throw', async () => {
    const runtime = new SessionRuntime('s1');
    const failed = runtime.serialise((): Promise<void> => {
      throw new Error('thrown synchronously');
    });
    await expect(failed).rejects.toThrow('thrown synchronously');
    await expect(runtime.serialise(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('keeps one state event per name, replacing an earlier one', () => {
    const runtime = new SessionRuntime('s1');
    runtime.setStateEvent({
      event: 'compression.started',
      data: { message_count: 10, token_count: 100 },
    });
    runtime.setStateEvent({ event: 'abort.started', data: { run_id: 'r1', graceMs: 5000 } });
    runtime.setStateEvent({
      event: 'compression.started',
      data: { message_count: 20, token_count: 200 },
    });

    expect(runtime.stateEvents).toEqual([
      { event: 'compression.started', data: { message_count: 20, token_count: 200 } },
      { event: 'abort.started', data: { run_id: 'r1', graceMs: 5000 } },
    ]);
  });
});
