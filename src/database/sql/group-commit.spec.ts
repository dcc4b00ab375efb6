import { Logger } from '@nestjs/common';
import { testDatabase, type TestDatabase } from '../../testing/test-database';
import type { SqlStatement } from './sql-client';

describe('GroupCommit (SQLite in memory)', () => {
  let db: TestDatabase;
  let insert: SqlStatement;
  let count: SqlStatement;

  beforeAll(async () => {
    db = await testDatabase();
    await db.dataSource.query('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
    insert = db.sql.statement('INSERT INTO notes (id, text) VALUES (?, ?)');
    count = db.sql.statement('SELECT COUNT(*) AS n FROM notes');
  });

  beforeEach(async () => {
    await db.dataSource.query('DELETE FROM notes');
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    await db?.destroy();
  });

  const notes = async (): Promise<number> => Number((await db.sql.all(count))[0].n);

  it('writes the jobs of one tick in one transaction and resolves each with its result', async () => {
    const batchesBefore = db.commit.stats.batches;
    const results = await Promise.all(
      [1, 2, 3].map((id) =>
        db.commit.write(async (tx) => {
          await tx.run(insert, [id, `note ${id}`]);
          return id * 10;
        }),
      ),
    );
    expect(results).toEqual([10, 20, 30]);
    expect(db.commit.stats.batches - batchesBefore).toBe(1);
    expect(await notes()).toBe(3);
  });

  it('resolves a job only once its writes are committed', async () => {
    let seenInside = -1;
    await db.commit.write(async (tx) => {
      await tx.run(insert, [1, 'one']);
      seenInside = Number((await tx.all(count))[0].n);
    });
    expect(seenInside).toBe(1);
    expect(await notes()).toBe(1);
  });

  it('rejects only the failing job of a batch; the others still commit, each once', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const splitsBefore = db.commit.stats.splits;
    const outcomes = await Promise.allSettled([
      db.commit.write((tx) => tx.run(insert, [1, 'one'])),
      // NOT NULL: this job fails, after its batch partners already wrote.
      db.commit.write((tx) => tx.run(insert, [2, null])),
      db.commit.write((tx) => tx.run(insert, [3, 'three'])),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(db.commit.stats.splits - splitsBefore).toBe(1);
    const ids = await db.dataSource.query<{ id: number }[]>('SELECT id FROM notes ORDER BY id');
    expect(ids.map((row) => row.id)).toEqual([1, 3]);
  });

  it('keeps writing in order after a failed batch, and settles once everything is written', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const outcomes = Promise.allSettled([
      db.commit.write((tx) => tx.run(insert, [1, null])),
      db.commit.write((tx) => tx.run(insert, [1, 'kept'])),
    ]);
    await db.commit.settled();
    const [first, second] = await outcomes;
    expect(first).toMatchObject({ status: 'rejected', reason: expect.objectContaining({}) });
    expect(String((first as PromiseRejectedResult).reason)).toMatch(/NOT NULL/);
    expect(second).toEqual({ status: 'fulfilled', value: 1 });
    expect(await db.dataSource.query('SELECT text FROM notes')).toEqual([{ text: 'kept' }]);
  });
});
