import { DataSource } from 'typeorm';
import { testDatabase, type TestDatabase } from '../testing/test-database';
import { TypeOrmSessionRepository } from '../sessions/typeorm-session.repository';
import { Snapshot, SnapshotStore } from './snapshot.store';
import { TokenCounter } from '../tokens/token-counter';

const snapshot = (sessionId: string, fields: Partial<Snapshot> = {}): Snapshot => ({
  sessionId,
  lastMessageId: 12,
  summary: 'The user asked for the deployment logs; the assistant found two failures.',
  summaryTokens: 15,
  coveredMessages: 12,
  ...fields,
});

describe('SnapshotStore (SQLite in memory, migrated)', () => {
  const tokens = new TokenCounter();
  let db: TestDatabase;
  let dataSource: DataSource;
  let sessions: TypeOrmSessionRepository;
  let store: SnapshotStore;

  /** The stored row itself, timestamps included. */
  const rowOf = async (
    sessionId: string,
  ): Promise<{ createdAt: number; updatedAt: number } | null> => {
    const [row] = await dataSource.query<{ created_at: number; updated_at: number }[]>(
      'SELECT created_at, updated_at FROM compression_snapshots WHERE session_id = ?',
      [sessionId],
    );
    return row ? { createdAt: row.created_at, updatedAt: row.updated_at } : null;
  };

  /** Freezes the clock the store reads (Date.now) at `seconds`. */
  const clockAt = (seconds: number): void => {
    jest.spyOn(Date, 'now').mockReturnValue(seconds * 1000);
  };

  beforeAll(async () => {
    db = await testDatabase();
    dataSource = db.dataSource;
    sessions = new TypeOrmSessionRepository(dataSource);
    store = new SnapshotStore(db.sql, db.commit);
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM sessions');
    await sessions.create({ id: 's1' });
    await sessions.create({ id: 's2' });
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    tokens.onModuleDestroy();
    await db?.destroy();
  });

  it('finds nothing for a session never compressed', async () => {
    expect(await store.find('s1')).toBeNull();
    expect(await store.find('no-such-session')).toBeNull();
  });

  it('stores the first snapshot of a session and finds it again', async () => {
    clockAt(1_764_230_000.5);
    const saved = await store.save(snapshot('s1'));
    expect(saved).toEqual(snapshot('s1'));
    expect(await store.find('s1')).toEqual(snapshot('s1'));
    expect(await rowOf('s1')).toMatchObject({
      createdAt: 1_764_230_000.5,
      updatedAt: 1_764_230_000.5,
    });
    expect(await store.find('s2')).toBeNull();
  });

  it('replaces the snapshot on a later save, keeping the time of the first', async () => {
    clockAt(1_764_230_000.5);
    await store.save(snapshot('s1'));
    clockAt(1_764_230_900.25);
    const grown = snapshot('s1', {
      lastMessageId: 40,
      summary: 'A longer summary that now also covers the rollback.',
      summaryTokens: 11,
      coveredMessages: 38,
    });
    await store.save(grown);

    expect(await store.find('s1')).toEqual(grown);
    expect(await rowOf('s1')).toMatchObject({
      createdAt: 1_764_230_000.5,
      updatedAt: 1_764_230_900.25,
    });
    const [{ n }] = await dataSource.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM compression_snapshots',
    );
    expect(Number(n)).toBe(1);
  });

  it('keeps the snapshots of different sessions apart', async () => {
    await store.save(snapshot('s1', { summary: 'first session' }));
    await store.save(snapshot('s2', { summary: 'second session', lastMessageId: 3 }));
    await store.save(snapshot('s1', { summary: 'first session, updated', lastMessageId: 20 }));
    expect(await store.find('s1')).toMatchObject({
      summary: 'first session, updated',
      lastMessageId: 20,
    });
    expect(await store.find('s2')).toMatchObject({ summary: 'second session', lastMessageId: 3 });
  });

  it('refuses a snapshot of an unknown session', async () => {
    await expect(store.save(snapshot('no-such-session'))).rejects.toThrow(/FOREIGN KEY/);
    expect(await rowOf('no-such-session')).toBeNull();
  });

  it('is deleted with its session', async () => {
    await store.save(snapshot('s1'));
    await store.save(snapshot('s2'));
    await sessions.delete('s1');
    expect(await store.find('s1')).toBeNull();
    expect(await rowOf('s1')).toBeNull();
    expect(await store.find('s2')).toEqual(snapshot('s2'));
  });
});
