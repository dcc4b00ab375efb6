import { DataSource } from 'typeorm';
import { SnapshotStore } from '../compression/snapshot.store';
import { TokenCounter } from '../tokens/token-counter';
import { testDatabase, type TestDatabase } from '../testing/test-database';
import type { HermesUsage } from '../hermes/hermes-events';
import type { TokenTotals } from '../sessions/session.types';
import { TranscriptStore } from '../sessions/transcript.store';
import { TypeOrmSessionRepository } from '../sessions/typeorm-session.repository';
import { UsageStore } from './usage.store';
import type { RunUsageInput, UsageFigures } from './usage.types';

/** 2025-03-10 15:30 UTC: the stats window of 7 days is 2025-03-04 … 2025-03-10. */
const NOW = Date.UTC(2025, 2, 10, 15, 30);
const at = (day: number, hours = 12, minutes = 0, seconds = 0): number =>
  Date.UTC(2025, 2, day, hours, minutes, seconds);

const ZERO: TokenTotals = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

/** Figures of `runs` runs, each in its own session unless `sessions` says otherwise. */
const figures = (
  runs: number,
  totals: Partial<TokenTotals> = {},
  sessions = runs,
): UsageFigures => ({
  runs,
  sessions,
  ...ZERO,
  ...totals,
});

describe('UsageStore (SQLite in memory, migrated)', () => {
  const tokens = new TokenCounter();
  let db: TestDatabase;
  let dataSource: DataSource;
  let sessions: TypeOrmSessionRepository;
  let store: UsageStore;
  let runs = 0;

  /** A run's usage for `sessionId`, with a fresh run id unless one is given. */
  const usageOf = (
    sessionId: string,
    usage: HermesUsage,
    extra: Partial<RunUsageInput> = {},
  ): RunUsageInput => ({
    sessionId,
    runId: `run-${++runs}`,
    kind: 'run',
    profile: 'default',
    model: 'hermes-4',
    usage,
    ...extra,
  });

  const totalsOf = async (sessionId: string): Promise<TokenTotals> => {
    const session = await sessions.findById(sessionId);
    if (!session) throw new Error(`no session ${sessionId}`);
    const { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, reasoningTokens } =
      session;
    return { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, reasoningTokens };
  };

  const countRows = async (sql: string, ...params: unknown[]): Promise<number> => {
    const [row] = await dataSource.query<{ n: number }[]>(sql, params);
    return Number(row.n);
  };

  beforeAll(async () => {
    db = await testDatabase();
    dataSource = db.dataSource;
    sessions = new TypeOrmSessionRepository(dataSource);
    store = new UsageStore(dataSource, db.sql, db.commit, new TranscriptStore(db.sql, tokens));
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM sessions');
    await sessions.create({ id: 's1' });
    await sessions.create({ id: 's2', profile: 'research' });
  });

  afterAll(async () => {
    tokens.onModuleDestroy();
    await db?.destroy();
  });

  describe('record', () => {
    it('stores the run with its day and time, and adds it to the session totals', async () => {
      await store.record(
        usageOf(
          's1',
          {
            input_tokens: 100,
            output_tokens: 20,
            total_tokens: 120,
            cache_read_tokens: 30,
            cache_write_tokens: 5,
            reasoning_tokens: 7,
          },
          { runId: 'r-first', kind: 'compression', model: 'hermes-4-70b' },
        ),
        NOW,
      );

      expect(await store.runsOf('s1', 10)).toEqual([
        {
          id: expect.any(Number),
          runId: 'r-first',
          kind: 'compression',
          profile: 'default',
          model: 'hermes-4-70b',
          inputTokens: 100,
          outputTokens: 20,
          cacheReadTokens: 30,
          cacheWriteTokens: 5,
          reasoningTokens: 7,
          createdAt: NOW / 1000,
        },
      ]);
      const [row] = await dataSource.query<{ day: string; session_id: string }[]>(
        'SELECT day, session_id FROM run_usage',
      );
      expect(row).toEqual({ day: '2025-03-10', session_id: 's1' });
      expect(await totalsOf('s1')).toEqual({
        inputTokens: 100,
        outputTokens: 20,
        cacheReadTokens: 30,
        cacheWriteTokens: 5,
        reasoningTokens: 7,
      });
      expect(await totalsOf('s2')).toEqual(ZERO);
    });

    it('adds every run to the totals already there', async () => {
      await store.record(usageOf('s1', { input_tokens: 100, output_tokens: 20 }), NOW);
      await store.record(usageOf('s1', { input_tokens: 40, reasoning_tokens: 3 }), NOW);
      await store.record(usageOf('s1', { cache_write_tokens: 9 }), NOW);
      expect(await totalsOf('s1')).toEqual({
        inputTokens: 140,
        outputTokens: 20,
        cacheReadTokens: 0,
        cacheWriteTokens: 9,
        reasoningTokens: 3,
      });
      expect(
        await countRows('SELECT COUNT(*) AS n FROM run_usage WHERE session_id = ?', 's1'),
      ).toBe(3);
    });

    it('reads the counters under their alternative names', async () => {
      await store.record(
        usageOf('s1', {
          prompt_tokens: 11,
          completion_tokens: 22,
          cache_read_input_tokens: 33,
          cache_creation_input_tokens: 44,
        }),
        NOW,
      );
      const expected = {
        inputTokens: 11,
        outputTokens: 22,
        cacheReadTokens: 33,
        cacheWriteTokens: 44,
        reasoningTokens: 0,
      };
      expect(await totalsOf('s1')).toEqual(expected);
      expect((await store.runsOf('s1', 1))[0]).toMatchObject(expected);
    });

    it('takes the primary name of a counter over its alternative', async () => {
      await store.record(
        usageOf('s1', {
          input_tokens: 10,
          prompt_tokens: 99,
          output_tokens: 5,
          completion_tokens: 77,
          cache_read_tokens: 3,
          cache_read_input_tokens: 66,
        }),
        NOW,
      );
      expect(await totalsOf('s1')).toMatchObject({
        inputTokens: 10,
        outputTokens: 5,
        cacheReadTokens: 3,
      });
    });

    it('counts non-numeric, negative, NaN and infinite counters as 0', async () => {
      await store.record(usageOf('s1', { input_tokens: 50, output_tokens: 5 }), NOW);
      await store.record(
        usageOf(
          's1',
          {
            input_tokens: Number.NaN,
            output_tokens: -5,
            cache_read_tokens: '12',
            cache_write_tokens: Number.POSITIVE_INFINITY,
            reasoning_tokens: null,
          },
          { runId: 'r-bad' },
        ),
        NOW,
      );
      const [bad] = await store.runsOf('s1', 1);
      expect(bad).toMatchObject({ runId: 'r-bad', ...ZERO });
      expect(await totalsOf('s1')).toEqual({ ...ZERO, inputTokens: 50, outputTokens: 5 });
    });

    it('rounds fractional counters to whole tokens', async () => {
      await store.record(usageOf('s1', { input_tokens: 12.6, output_tokens: 3.4 }), NOW);
      expect(await totalsOf('s1')).toMatchObject({ inputTokens: 13, outputTokens: 3 });
    });

    it('stores a run without any counters as zeros and leaves the totals alone', async () => {
      await store.record(usageOf('s1', {}, { runId: 'r-empty' }), NOW);
      expect(await store.runsOf('s1', 10)).toEqual([
        expect.objectContaining({ runId: 'r-empty', ...ZERO }),
      ]);
      expect(await totalsOf('s1')).toEqual(ZERO);
    });

    it('stores neither the row nor the totals when the session update fails', async () => {
      await dataSource.query(
        `CREATE TRIGGER refuse_session_update BEFORE UPDATE ON sessions
         BEGIN SELECT RAISE(ABORT, 'session update refused'); END`,
      );
      try {
        await expect(store.record(usageOf('s1', { input_tokens: 10 }), NOW)).rejects.toThrow(
          'session update refused',
        );
      } finally {
        await dataSource.query('DROP TRIGGER refuse_session_update');
      }
      expect(await countRows('SELECT COUNT(*) AS n FROM run_usage')).toBe(0);
      expect(await totalsOf('s1')).toEqual(ZERO);
      // The store is still usable afterwards: no transaction was left open.
      await store.record(usageOf('s1', { input_tokens: 10 }), NOW);
      expect(await totalsOf('s1')).toMatchObject({ inputTokens: 10 });
    });

    it('rejects the usage of an unknown session without storing it', async () => {
      await expect(store.record(usageOf('nope', { input_tokens: 10 }), NOW)).rejects.toThrow(
        /FOREIGN KEY/,
      );
      expect(await countRows('SELECT COUNT(*) AS n FROM run_usage')).toBe(0);
    });

    it('loses no increment when runs are recorded concurrently', async () => {
      const amounts = Array.from({ length: 25 }, (_, index) => index + 1);
      await Promise.all(
        amounts.map((amount) =>
          store.record(usageOf('s1', { input_tokens: amount, output_tokens: 1 }), NOW),
        ),
      );
      expect(await totalsOf('s1')).toMatchObject({ inputTokens: 325, outputTokens: 25 });
      expect(await countRows('SELECT COUNT(*) AS n FROM run_usage')).toBe(25);
    });
  });

  describe('runsOf', () => {
    it('lists the session’s newest runs first, up to the limit', async () => {
      for (const runId of ['r1', 'r2', 'r3', 'r4', 'r5']) {
        await store.record(usageOf('s1', { input_tokens: 1 }, { runId }), NOW);
        await store.record(usageOf('s2', { input_tokens: 1 }), NOW);
      }
      const newest = await store.runsOf('s1', 3);
      expect(newest.map((run) => run.runId)).toEqual(['r5', 'r4', 'r3']);
      expect((await store.runsOf('s1', 100)).map((run) => run.runId)).toEqual([
        'r5',
        'r4',
        'r3',
        'r2',
        'r1',
      ]);
    });

    it('is empty for a session without runs', async () => {
      await store.record(usageOf('s2', { input_tokens: 1 }), NOW);
      expect(await store.runsOf('s1', 10)).toEqual([]);
    });
  });

  describe('stats', () => {
    beforeEach(async () => {
      // Inside the window of 7 days (2025-03-04 … 2025-03-10):
      await store.record(usageOf('s1', { input_tokens: 100, output_tokens: 10 }), NOW);
      await store.record(
        usageOf('s1', { input_tokens: 50, output_tokens: 5, cache_read_tokens: 7 }),
        at(8, 9),
      );
      await store.record(
        usageOf('s1', { input_tokens: 20, output_tokens: 2 }, { model: null }),
        at(4, 0, 0, 30),
      );
      await store.record(
        usageOf(
          's2',
          { input_tokens: 300, output_tokens: 30, reasoning_tokens: 9 },
          { profile: 'research', model: 'gpt-4o' },
        ),
        at(8, 23, 59),
      );
      // One second before the window:
      await store.record(
        usageOf('s1', { input_tokens: 1000, output_tokens: 1000, cache_write_tokens: 1000 }),
        at(3, 23, 59, 59),
      );
    });

    it('adds up the window by model and by day, every day of it listed oldest first', async () => {
      expect(await store.stats(7, undefined, NOW)).toEqual({
        days: 7,
        profile: null,
        from: '2025-03-04',
        to: '2025-03-10',
        // s1 and s2, each once.
        totals: figures(
          4,
          { inputTokens: 470, outputTokens: 47, cacheReadTokens: 7, reasoningTokens: 9 },
          2,
        ),
        // Largest first (input + output).
        byModel: [
          {
            model: 'gpt-4o',
            ...figures(1, { inputTokens: 300, outputTokens: 30, reasoningTokens: 9 }),
          },
          {
            model: 'hermes-4',
            ...figures(2, { inputTokens: 150, outputTokens: 15, cacheReadTokens: 7 }, 1),
          },
          { model: null, ...figures(1, { inputTokens: 20, outputTokens: 2 }) },
        ],
        byDay: [
          { day: '2025-03-04', ...figures(1, { inputTokens: 20, outputTokens: 2 }) },
          { day: '2025-03-05', ...figures(0) },
          { day: '2025-03-06', ...figures(0) },
          { day: '2025-03-07', ...figures(0) },
          {
            day: '2025-03-08',
            ...figures(2, {
              inputTokens: 350,
              outputTokens: 35,
              cacheReadTokens: 7,
              reasoningTokens: 9,
            }),
          },
          { day: '2025-03-09', ...figures(0) },
          { day: '2025-03-10', ...figures(1, { inputTokens: 100, outputTokens: 10 }) },
        ],
      });
    });

    it('leaves out runs stamped after its last day (clock skew), in every figure', async () => {
      // `at(day, …)` is in March 2025 like NOW; the 12th is two days after the window's end.
      await store.record(usageOf('s1', { input_tokens: 500, output_tokens: 50 }), at(12, 8));
      const stats = await store.stats(7, undefined, NOW);
      expect(stats.totals.runs).toBe(4);
      const byModelRuns = stats.byModel.reduce((n, row) => n + row.runs, 0);
      expect(byModelRuns).toBe(stats.totals.runs);
    });

    it('takes the day before the window in when the window is one day longer', async () => {
      const stats = await store.stats(8, undefined, NOW);
      expect(stats.from).toBe('2025-03-03');
      expect(stats.byDay).toHaveLength(8);
      expect(stats.byDay[0]).toEqual({
        day: '2025-03-03',
        ...figures(1, { inputTokens: 1000, outputTokens: 1000, cacheWriteTokens: 1000 }),
      });
      expect(stats.totals.runs).toBe(5);
    });

    it('covers today alone for a window of one day', async () => {
      const stats = await store.stats(1, undefined, NOW);
      expect(stats).toMatchObject({ from: '2025-03-10', to: '2025-03-10' });
      expect(stats.byDay).toEqual([
        { day: '2025-03-10', ...figures(1, { inputTokens: 100, outputTokens: 10 }) },
      ]);
      expect(stats.totals).toEqual(figures(1, { inputTokens: 100, outputTokens: 10 }));
      expect(stats.byModel).toEqual([
        { model: 'hermes-4', ...figures(1, { inputTokens: 100, outputTokens: 10 }) },
      ]);
    });

    it('counts only the runs of the profile asked for', async () => {
      const stats = await store.stats(7, 'default', NOW);
      expect(stats.profile).toBe('default');
      expect(stats.totals).toEqual(
        figures(3, { inputTokens: 170, outputTokens: 17, cacheReadTokens: 7 }, 1),
      );
      expect(stats.byModel.map((row) => row.model)).toEqual(['hermes-4', null]);
      expect(stats.byDay.find((row) => row.day === '2025-03-08')).toEqual({
        day: '2025-03-08',
        ...figures(1, { inputTokens: 50, outputTokens: 5, cacheReadTokens: 7 }),
      });

      const research = await store.stats(7, 'research', NOW);
      expect(research.totals).toEqual(
        figures(1, { inputTokens: 300, outputTokens: 30, reasoningTokens: 9 }),
      );
      expect(research.byModel.map((row) => row.model)).toEqual(['gpt-4o']);
    });

    it('answers zeros for every day of a profile without runs', async () => {
      const stats = await store.stats(7, 'nobody', NOW);
      expect(stats.totals).toEqual(figures(0));
      expect(stats.byModel).toEqual([]);
      expect(stats.byDay.map((row) => row.day)).toEqual([
        '2025-03-04',
        '2025-03-05',
        '2025-03-06',
        '2025-03-07',
        '2025-03-08',
        '2025-03-09',
        '2025-03-10',
      ]);
      expect(stats.byDay.every((row) => row.runs === 0 && row.inputTokens === 0)).toBe(true);
    });

    it('lists the days of a window across a month end in UTC', async () => {
      const stats = await store.stats(3, undefined, Date.UTC(2025, 2, 1, 0, 0, 1));
      expect(stats.byDay.map((row) => row.day)).toEqual(['2025-02-27', '2025-02-28', '2025-03-01']);
      expect(stats).toMatchObject({ from: '2025-02-27', to: '2025-03-01' });
    });
  });

  describe('deleting a session', () => {
    it('removes its usage rows and its snapshot, and nothing of other sessions', async () => {
      const snapshots = new SnapshotStore(db.sql, db.commit);
      for (const id of ['s1', 's2']) {
        await store.record(usageOf(id, { input_tokens: 5 }), NOW);
        await store.record(usageOf(id, { input_tokens: 5 }), NOW);
        await snapshots.save({
          sessionId: id,
          lastMessageId: 3,
          summary: `summary of ${id}`,
          summaryTokens: 4,
          coveredMessages: 3,
        });
      }

      await sessions.delete('s1');

      expect(
        await countRows('SELECT COUNT(*) AS n FROM run_usage WHERE session_id = ?', 's1'),
      ).toBe(0);
      expect(
        await countRows(
          'SELECT COUNT(*) AS n FROM compression_snapshots WHERE session_id = ?',
          's1',
        ),
      ).toBe(0);
      expect(await store.runsOf('s2', 10)).toHaveLength(2);
      expect(await snapshots.find('s2')).not.toBeNull();
      expect((await store.stats(1, undefined, NOW)).totals).toMatchObject({
        runs: 2,
        inputTokens: 10,
      });
    });
  });
});
