import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TYPEORM_ENTITIES } from '../../testing/migrated-memory-db';
import { MIGRATIONS } from '../../database/migrations';
import { EventLog1764250000000 } from '../../database/migrations/1764250000000-event-log';
import type { EventLogOptions } from './event-log.options';
import { EventLog, LoggedEvent } from './event-log.service';
import { EventLogStore } from './event-log.store';
import { GroupCommit } from '../../database/sql/group-commit';
import { SqlClient } from '../../database/sql/sql-client';
import { TranscriptStore } from '../../sessions/transcript.store';
import { TokenCounter } from '../../tokens/token-counter';
import { SessionLeases } from '../../cluster/session-leases';
import { configFor } from '../../config/testing/config-for';

/** setTimeout's maximum: a log whose timer must never fire within the test run. */
const NEVER = 2 ** 31 - 1;

type Ctor = new (...args: never[]) => unknown;

/** The app's entities and migrations plus ours, once each (the lead may have registered ours). */
async function eventLogDataSource(): Promise<DataSource> {
  return new DataSource({
    type: 'sqlite',
    database: ':memory:',
    entities: TYPEORM_ENTITIES,
    migrations: [...new Set<Ctor>([...MIGRATIONS, EventLog1764250000000])],
    migrationsRun: true,
    logging: false,
  }).initialize();
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

const seqs = (events: readonly LoggedEvent[]): number[] => events.map((event) => event.seq);
const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

describe('EventLog (SQLite in memory, migrated)', () => {
  let dataSource: DataSource;
  let sql: SqlClient;
  let commit: GroupCommit;
  let transcripts: TranscriptStore;
  let leases: SessionLeases;
  const tokens = new TokenCounter();
  const opened: EventLog[] = [];

  /** A log closed after the test; crash tests drop theirs instead. */
  const makeLog = (options: Partial<EventLogOptions> = {}): EventLog => {
    const log = new EventLog(sql, commit, transcripts, leases, {
      flushIntervalMs: NEVER,
      ...options,
    });
    opened.push(log);
    return log;
  };
  /** A log nobody closes: the process "dies" with it. */
  const crashingLog = (options: Partial<EventLogOptions> = {}): EventLog =>
    new EventLog(sql, commit, transcripts, leases, { flushIntervalMs: NEVER, ...options });

  const appendMany = (log: EventLog, sessionId: string, count: number): LoggedEvent[] =>
    Array.from({ length: count }, (_, i) =>
      log.append(sessionId, 'message.delta', { delta: `d${i}` }),
    );

  const head = async (sessionId: string) => {
    const rows = await dataSource.query<
      { seq_reserved: number; last_stored_seq: number; replay_floor: number }[]
    >(
      'SELECT seq_reserved, last_stored_seq, replay_floor FROM session_event_heads WHERE session_id = ?',
      [sessionId],
    );
    return rows[0];
  };

  const storedSeqs = async (sessionId: string): Promise<number[]> => {
    const rows = await dataSource.query<{ events: string }[]>(
      'SELECT events FROM session_event_batches WHERE session_id = ? ORDER BY first_seq',
      [sessionId],
    );
    return rows.flatMap((row) => (JSON.parse(row.events) as LoggedEvent[]).map((e) => e.seq));
  };

  beforeAll(async () => {
    dataSource = await eventLogDataSource();
    sql = new SqlClient(dataSource);
    commit = new GroupCommit(sql);
    transcripts = new TranscriptStore(sql, tokens);
    leases = new SessionLeases(sql, commit, configFor());
  });

  beforeEach(async () => {
    // Lifecycle lines ("recovered", "session deleted") are expected here; warnings are asserted.
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    await dataSource.query('DELETE FROM sessions');
    for (const id of ['s1', 's2']) {
      await dataSource.query(
        'INSERT INTO sessions (id, created_at, last_active) VALUES (?, 1, 1)',
        [id],
      );
    }
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(opened.splice(0).map((log) => log.closeAll()));
  });

  afterAll(async () => {
    tokens.onModuleDestroy();
    await commit?.settled();
    await sql?.beforeApplicationShutdown();
    await dataSource?.destroy();
  });

  describe('append', () => {
    it('numbers events consecutively per session and returns the exact wire object', async () => {
      const log = makeLog();
      await log.open('s1');
      await log.open('s2');
      expect(log.isOpen('s1')).toBe(true);
      expect(log.latestSeq('s1')).toBe(0);

      const payload = { delta: 'hi', run_id: 'r1', session_id: 'upstream-id', seq: 99 };
      const first = log.append('s1', 'message.delta', payload);
      expect(first).toEqual({
        delta: 'hi',
        run_id: 'r1',
        event: 'message.delta',
        session_id: 's1',
        seq: 1,
      });
      expect(payload.seq).toBe(99);
      expect(seqs(appendMany(log, 's1', 3))).toEqual([2, 3, 4]);
      expect(log.append('s2', 'run.queued', { queue_length: 1 }).seq).toBe(1);
      expect(log.latestSeq('s1')).toBe(4);

      const { events } = await log.replay('s1', 0);
      expect(events[0]).toBe(first);
    });

    it('throws a clear error for a session whose log is not open', () => {
      const log = makeLog();
      expect(log.isOpen('s1')).toBe(false);
      expect(() => log.append('s1', 'x', {})).toThrow('The event log of session s1 is not open');
      expect(() => log.latestSeq('s1')).toThrow(/not open/);
    });

    it('takes 100k appends in stride and stores them in one batch row', async () => {
      const log = makeLog({ block: 1_000_000, maxPendingEvents: 200_000 });
      await log.open('s1');
      // No timing assertion (it would be flaky); this documents the per-event path's cost.
      const started = process.cpuUsage();
      for (let i = 0; i < 100_000; i++) log.append('s1', 'message.delta', { delta: 'x' });
      const cpuMs = process.cpuUsage(started).user / 1000;
      expect(cpuMs).toBeGreaterThan(0);
      expect(log.latestSeq('s1')).toBe(100_000);

      await log.flush();
      const [{ n }] = await dataSource.query<{ n: number }[]>(
        `SELECT COUNT(*) AS n FROM session_event_batches WHERE session_id = 's1'`,
      );
      expect(n).toBe(1);
      const { complete, events } = await log.replay('s1', 99_990);
      expect(complete).toBe(true);
      expect(seqs(events)).toEqual(range(99_991, 100_000));
    });
  });

  describe('replay', () => {
    it('returns exactly the events after any seq, from stored batches and the buffer', async () => {
      const log = makeLog();
      await log.open('s1');
      appendMany(log, 's1', 10);
      await log.flush('s1');
      appendMany(log, 's1', 10);
      await log.flush();
      appendMany(log, 's1', 5); // 21..25 stay buffered
      expect(await storedSeqs('s1')).toEqual(range(1, 20));

      for (let after = 0; after <= 25; after++) {
        const { complete, events } = await log.replay('s1', after);
        expect(complete).toBe(true);
        expect(seqs(events)).toEqual(range(after + 1, 25));
      }
    });

    it('keeps a batch being written visible and loses nothing appended meanwhile', async () => {
      const log = makeLog();
      await log.open('s1');
      const writing = deferred();
      const gate = deferred();
      const write = EventLogStore.prototype.write;
      jest.spyOn(EventLogStore.prototype, 'write').mockImplementation(async function (
        this: EventLogStore,
        ...args
      ) {
        writing.resolve();
        await gate.promise;
        return write.apply(this, args);
      });

      appendMany(log, 's1', 5);
      const flushing = log.flush('s1');
      await writing.promise; // 1..5 taken by the write, which now hangs
      appendMany(log, 's1', 3);
      const during = await log.replay('s1', 0);
      expect(during.complete).toBe(true);
      expect(seqs(during.events)).toEqual(range(1, 8));

      gate.resolve();
      await flushing;
      expect(await storedSeqs('s1')).toEqual(range(1, 5));
      expect(seqs((await log.replay('s1', 2)).events)).toEqual(range(3, 8));
      await log.flush('s1');
      expect(await storedSeqs('s1')).toEqual(range(1, 8));
    });

    it('neither loses nor repeats a batch that commits while the replay reads the database', async () => {
      const log = makeLog();
      await log.open('s1');
      appendMany(log, 's1', 10);
      await log.flush();
      appendMany(log, 's1', 5); // 11..15 buffered

      // The read sees the database as it was (1..10) but returns only after the next write.
      const readDone = deferred();
      const release = deferred();
      const loadAfter = EventLogStore.prototype.loadAfter;
      jest.spyOn(EventLogStore.prototype, 'loadAfter').mockImplementation(async function (
        this: EventLogStore,
        ...args
      ) {
        const rows = await loadAfter.apply(this, args);
        readDone.resolve();
        await release.promise;
        return rows;
      });

      const replaying = log.replay('s1', 2);
      await readDone.promise;
      await log.flush(); // commits 11..15: gone from memory, not in the read
      appendMany(log, 's1', 3); // 16..18 buffered
      release.resolve();

      const { complete, events } = await replaying;
      expect(complete).toBe(true);
      expect(seqs(events)).toEqual(range(3, 18));
    });

    it('hands the result to deliver synchronously, before any later append', async () => {
      const log = makeLog();
      await log.open('s1');
      appendMany(log, 's1', 3);
      await log.flush();
      let delivered: number[] = [];
      let appendedInside = 0;
      const result = await log.replay('s1', 1, ({ events }) => {
        delivered = seqs(events);
        // Live from here on: what the room would send after the socket joined.
        appendedInside = log.append('s1', 'message.delta', {}).seq;
      });
      expect(delivered).toEqual([2, 3]);
      expect(seqs(result.events)).toEqual([2, 3]);
      expect(appendedInside).toBe(4);
    });

    it('is complete with no events at the latest seq, and incomplete for a foreign cursor', async () => {
      const log = makeLog();
      await log.open('s1');
      appendMany(log, 's1', 3);
      expect(await log.replay('s1', 3)).toEqual({ complete: true, events: [] });
      expect(await log.replay('s1', 4)).toEqual({ complete: false, events: [] });
      expect(await log.replay('s1', Number.NaN)).toEqual({ complete: false, events: [] });
    });

    it('degrades to incomplete when the database cannot be read', async () => {
      const log = makeLog();
      await log.open('s1');
      appendMany(log, 's1', 4);
      await log.flush();
      jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      jest.spyOn(EventLogStore.prototype, 'loadAfter').mockRejectedValueOnce(new Error('gone'));
      expect(await log.replay('s1', 1)).toEqual({ complete: false, events: [] });
    });
  });

  describe('restarts', () => {
    it('continues at last + 1 after a clean close, with a complete replay across it', async () => {
      const before = makeLog({ block: 1000 });
      await before.open('s1');
      appendMany(before, 's1', 7);
      await before.close('s1');
      expect(before.isOpen('s1')).toBe(false);
      expect(() => before.append('s1', 'x', {})).toThrow(/not open/);
      expect(await head('s1')).toEqual({ seq_reserved: 7, last_stored_seq: 7, replay_floor: 0 });

      const after = makeLog({ block: 1000 });
      await after.open('s1');
      expect(after.latestSeq('s1')).toBe(7);
      expect(await head('s1')).toMatchObject({ seq_reserved: 1007, last_stored_seq: 7 });
      expect(after.append('s1', 'run.started', {}).seq).toBe(8);
      for (const from of [0, 5, 7]) {
        const { complete, events } = await after.replay('s1', from);
        expect(complete).toBe(true);
        expect(seqs(events)).toEqual(range(from + 1, 8));
      }
    });

    it('after a crash resumes above the reservation and marks the lost range incomplete', async () => {
      const dead = crashingLog({ block: 1000 });
      await dead.open('s1');
      appendMany(dead, 's1', 10);
      await dead.flush();
      const sent = appendMany(dead, 's1', 5); // 11..15 sent, never stored: the process dies
      expect(seqs(sent)).toEqual(range(11, 15));
      expect(await head('s1')).toEqual({
        seq_reserved: 1010,
        last_stored_seq: 10,
        replay_floor: 0,
      });

      const revived = makeLog({ block: 1000 });
      await revived.open('s1');
      expect(revived.latestSeq('s1')).toBe(1010);
      expect(await head('s1')).toMatchObject({ replay_floor: 1010, seq_reserved: 2010 });
      const next = appendMany(revived, 's1', 2);
      expect(seqs(next)).toEqual([1011, 1012]);

      for (const from of [0, 9, 10, 12, 15, 1009]) {
        expect(await revived.replay('s1', from)).toEqual({ complete: false, events: [] });
      }
      const fromFloor = await revived.replay('s1', 1010);
      expect(fromFloor.complete).toBe(true);
      expect(seqs(fromFloor.events)).toEqual([1011, 1012]);

      // The floor outlives a clean restart.
      await revived.close('s1');
      const again = makeLog({ block: 1000 });
      await again.open('s1');
      expect(again.latestSeq('s1')).toBe(1012);
      expect((await again.replay('s1', 12)).complete).toBe(false);
      expect(seqs((await again.replay('s1', 1010)).events)).toEqual([1011, 1012]);
    });

    it('reserves before the first write, so a crash before any flush reuses nothing', async () => {
      const dead = crashingLog({ block: 50 });
      await dead.open('s1');
      appendMany(dead, 's1', 3);

      const revived = makeLog({ block: 50 });
      await revived.open('s1');
      expect(revived.append('s1', 'x', {}).seq).toBe(51);
      expect((await revived.replay('s1', 0)).complete).toBe(false);
    });
  });

  describe('trim', () => {
    it('keeps the newest events and reports older cursors incomplete', async () => {
      const log = makeLog({ window: 10 });
      await log.open('s1');
      for (let i = 0; i < 5; i++) {
        appendMany(log, 's1', 10);
        await log.flush();
      }
      await log.trim('s1', 20);
      expect(await storedSeqs('s1')).toEqual(range(31, 50));
      expect((await log.replay('s1', 29)).complete).toBe(false);
      expect(seqs((await log.replay('s1', 30)).events)).toEqual(range(31, 50));

      await log.trim('s1'); // the configured window
      expect(await storedSeqs('s1')).toEqual(range(41, 50));
      expect((await log.replay('s1', 39)).complete).toBe(false);
      expect((await log.replay('s1', 40)).complete).toBe(true);
    });

    it('never trims what is still buffered', async () => {
      const log = makeLog();
      await log.open('s1');
      appendMany(log, 's1', 10);
      await log.flush();
      appendMany(log, 's1', 10);
      await log.trim('s1', 0);
      expect(await storedSeqs('s1')).toEqual([]);
      expect(seqs((await log.replay('s1', 10)).events)).toEqual(range(11, 20));
    });
  });

  describe('failures', () => {
    it('keeps the events of a failed write buffered, warns, and stores them on retry', async () => {
      const log = makeLog();
      await log.open('s1');
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      jest.spyOn(EventLogStore.prototype, 'write').mockRejectedValueOnce(new Error('disk full'));

      appendMany(log, 's1', 5);
      await expect(log.flush()).resolves.toBeUndefined();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('disk full'));
      expect(await storedSeqs('s1')).toEqual([]);
      expect(seqs((await log.replay('s1', 0)).events)).toEqual(range(1, 5));

      appendMany(log, 's1', 2);
      await log.flush();
      expect(await storedSeqs('s1')).toEqual(range(1, 7));
      expect(seqs((await log.replay('s1', 0)).events)).toEqual(range(1, 7));
    });

    it('retries on the shared timer without being asked', async () => {
      const log = makeLog({ flushIntervalMs: 5 });
      await log.open('s1');
      jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const stored = deferred();
      const write = EventLogStore.prototype.write;
      let calls = 0;
      jest.spyOn(EventLogStore.prototype, 'write').mockImplementation(async function (
        this: EventLogStore,
        ...args
      ) {
        if (++calls === 1) throw new Error('busy');
        await write.apply(this, args);
        stored.resolve();
      });

      appendMany(log, 's1', 3);
      await stored.promise;
      expect(calls).toBe(2);
      expect(await storedSeqs('s1')).toEqual([1, 2, 3]);
    });

    it('rejects close when the write fails and keeps the log open until it succeeds', async () => {
      const log = makeLog();
      await log.open('s1');
      jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      jest.spyOn(EventLogStore.prototype, 'write').mockRejectedValueOnce(new Error('locked'));
      appendMany(log, 's1', 2);

      await expect(log.close('s1')).rejects.toThrow(/could not be written/);
      expect(log.isOpen('s1')).toBe(true);
      expect(log.append('s1', 'x', {}).seq).toBe(3);
      await log.close('s1');
      expect(await storedSeqs('s1')).toEqual([1, 2, 3]);
      expect(await head('s1')).toMatchObject({ seq_reserved: 3, last_stored_seq: 3 });
    });

    it('bounds the buffer during an outage and reports the dropped range incomplete', async () => {
      const log = makeLog({ maxPendingEvents: 10, block: 100 });
      await log.open('s1');
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const write = jest
        .spyOn(EventLogStore.prototype, 'write')
        .mockRejectedValue(new Error('database down'));
      jest.spyOn(TranscriptStore.prototype, 'facts').mockRejectedValue(new Error('down'));

      for (let i = 0; i < 5; i++) {
        appendMany(log, 's1', 6);
        await log.flush();
      }
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('dropped'));
      expect((await log.replay('s1', 0)).complete).toBe(false);
      const tail = await log.replay('s1', 27);
      expect(seqs(tail.events)).toEqual([28, 29, 30]);

      write.mockRestore();
      await log.flush();
      const stored = await storedSeqs('s1');
      expect(stored.length).toBeLessThanOrEqual(10);
      expect(stored.at(-1)).toBe(30);
      const floor = (await head('s1')).replay_floor;
      expect(floor).toBeGreaterThan(0);
      expect((await log.replay('s1', floor - 1)).complete).toBe(false);
      expect(seqs((await log.replay('s1', floor)).events)).toEqual(range(floor + 1, 30));
    });

    it('lets other sessions be written when one session was deleted meanwhile', async () => {
      const log = makeLog();
      await log.open('s1');
      await log.open('s2');
      appendMany(log, 's1', 2);
      appendMany(log, 's2', 2);
      await dataSource.query(`DELETE FROM sessions WHERE id = 's2'`);

      await log.flush();
      expect(await storedSeqs('s1')).toEqual([1, 2]);
      // The deleted session keeps numbering (no throw on the hot path) but stores nothing.
      expect(log.append('s2', 'x', {}).seq).toBe(3);
      await log.flush();
      expect((await log.replay('s2', 0)).complete).toBe(false);
      await expect(log.close('s2')).resolves.toBeUndefined();
      expect(log.isOpen('s2')).toBe(false);
    });

    it('rejects open for a session that does not exist', async () => {
      const log = makeLog();
      await expect(log.open('nope')).rejects.toThrow();
      expect(log.isOpen('nope')).toBe(false);
    });
  });

  describe('lifecycle', () => {
    it('shares one open between concurrent callers', async () => {
      const log = makeLog();
      const readHead = jest.spyOn(EventLogStore.prototype, 'readHead');
      const first = log.open('s1');
      expect(log.open('s1')).toBe(first);
      await Promise.all([first, log.open('s1')]);
      await log.open('s1');
      expect(readHead).toHaveBeenCalledTimes(1);
    });

    it('applies open and close in call order, without a jump in seqs', async () => {
      const log = makeLog();
      await log.open('s1');
      appendMany(log, 's1', 2);
      const closing = log.close('s1');
      const reopening = log.open('s1');
      await Promise.all([closing, reopening]);
      expect(log.isOpen('s1')).toBe(true);
      expect(log.append('s1', 'x', {}).seq).toBe(3);
      const { complete, events } = await log.replay('s1', 0);
      expect(complete).toBe(true);
      expect(seqs(events)).toEqual([1, 2, 3]);
    });

    it('closeAll writes every buffer and an exact reservation for each session', async () => {
      const log = makeLog();
      await log.open('s1');
      await log.open('s2');
      appendMany(log, 's1', 4);
      appendMany(log, 's2', 1);
      await log.closeAll();
      expect(log.isOpen('s1') || log.isOpen('s2')).toBe(false);
      expect(await head('s1')).toEqual({ seq_reserved: 4, last_stored_seq: 4, replay_floor: 0 });
      expect(await head('s2')).toEqual({ seq_reserved: 1, last_stored_seq: 1, replay_floor: 0 });
      expect(await storedSeqs('s1')).toEqual([1, 2, 3, 4]);
    });

    it('writes by itself on the shared timer', async () => {
      const log = makeLog({ flushIntervalMs: 5 });
      await log.open('s1');
      await log.open('s2');
      const written = deferred();
      const write = EventLogStore.prototype.write;
      const spy = jest.spyOn(EventLogStore.prototype, 'write').mockImplementation(async function (
        this: EventLogStore,
        ...args
      ) {
        await write.apply(this, args);
        written.resolve();
      });
      appendMany(log, 's1', 2);
      appendMany(log, 's2', 3);
      await written.promise;
      // One write for both sessions: one batch row each.
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.calls[0][0]).toHaveLength(2);
      expect(await storedSeqs('s2')).toEqual([1, 2, 3]);
    });
  });

  it('is deleted with its session (foreign keys cascade)', async () => {
    const log = makeLog();
    await log.open('s1');
    appendMany(log, 's1', 3);
    await log.close('s1');
    await dataSource.query(`DELETE FROM sessions WHERE id = 's1'`);
    const [{ heads }] = await dataSource.query<{ heads: number }[]>(
      `SELECT COUNT(*) AS heads FROM session_event_heads WHERE session_id = 's1'`,
    );
    expect(heads).toBe(0);
    expect(await storedSeqs('s1')).toEqual([]);
  });
});

describe('EventLog1764250000000 migration', () => {
  it('creates exactly the schema the entities describe, and reverts', async () => {
    const dataSource = await eventLogDataSource();
    try {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      const ours = pending.upQueries
        .map((query) => query.query)
        .filter((query) => query.includes('session_event'));
      expect(ours).toEqual([]);

      const runner = dataSource.createQueryRunner();
      await new EventLog1764250000000().down(runner);
      expect(await runner.hasTable('session_event_heads')).toBe(false);
      expect(await runner.hasTable('session_event_batches')).toBe(false);
      await new EventLog1764250000000().up(runner);
      const batches = await runner.getTable('session_event_batches');
      expect(batches?.foreignKeys.map((fk) => fk.onDelete)).toEqual(['CASCADE']);
      expect(batches?.indices.map((index) => index.columnNames)).toEqual([
        ['session_id', 'last_seq'],
      ]);
    } finally {
      await dataSource.destroy();
    }
  });
});
