import { testDatabase, type TestDatabase } from '../testing/test-database';
import { DataSource } from 'typeorm';
import { TokenCounter } from '../tokens/token-counter';
import { appendMessages } from './testing/append-messages';
import { TranscriptStore } from './transcript.store';
import { AppError } from '../common/errors/app-error';
import type { Message, NewMessage, Session } from './session.types';
import { TypeOrmSessionRepository } from './typeorm-session.repository';

/** The rejection of `promise`, which must reject with an AppError. */
async function appErrorOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError, got none');
}

const user = (content: string): NewMessage => ({ role: 'user', content });
const assistant = (content: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  role: 'assistant',
  content,
  ...extra,
});

async function collect(pages: AsyncIterable<Message[]>): Promise<Message[][]> {
  const out: Message[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

describe('TypeOrmSessionRepository (SQLite in memory, migrated)', () => {
  const tokens = new TokenCounter();
  let db: TestDatabase;
  let dataSource: DataSource;
  let repo: TypeOrmSessionRepository;
  let transcripts: TranscriptStore;

  beforeAll(async () => {
    db = await testDatabase();
    dataSource = db.dataSource;
    repo = new TypeOrmSessionRepository(dataSource);
    transcripts = new TranscriptStore(db.sql, tokens);
  });

  /** Stores messages as runs do; resolves to them as the repository reads them back. */
  const append = async (sessionId: string, messages: NewMessage[]): Promise<Message[]> => {
    const ids = await appendMessages(transcripts, db.commit, sessionId, messages);
    const page = await repo.listMessages(sessionId, { limit: 10_000 });
    return ids.map((id) => page.messages.find((message) => message.id === id)!);
  };

  beforeEach(async () => {
    await dataSource.query('DELETE FROM messages');
    await dataSource.query('DELETE FROM sessions');
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    tokens.onModuleDestroy();
    await db?.destroy();
  });

  const countRows = async (sql: string, ...params: unknown[]): Promise<number> => {
    const [row] = await dataSource.query<{ n: number }[]>(sql, params);
    return Number(row.n);
  };

  /** Freezes the clock the repository reads (Date.now) at `seconds`. */
  const clockAt = (seconds: number): void => {
    jest.spyOn(Date, 'now').mockReturnValue(seconds * 1000);
  };

  describe('create', () => {
    it('stores a session with defaults and finds it again', async () => {
      clockAt(1_764_230_000.25);
      const created = await repo.create({ id: 's1', title: 'Logs' });
      expect(created).toEqual({
        id: 's1',
        profile: 'default',
        model: null,
        title: 'Logs',
        preview: null,
        workspace: null,
        createdAt: 1_764_230_000.25,
        lastActive: 1_764_230_000.25,
        messageCount: 0,
        inputTokens: 0,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        context: { inputTokens: 0, outputTokens: 0 },
      });
      expect(await repo.findById('s1')).toEqual(created);
    });

    it('generates an id when none is given', async () => {
      const created = await repo.create({});
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await repo.findById(created.id)).not.toBeNull();
    });

    it('refuses a taken id with session_exists and keeps the first session', async () => {
      await repo.create({ id: 'dup', title: 'first' });
      const error = await appErrorOf(repo.create({ id: 'dup', title: 'second' }));
      expect(error).toMatchObject({ code: 'session_exists', status: 409 });
      expect((await repo.findById('dup'))?.title).toBe('first');
    });
  });

  describe('findManyByIds', () => {
    it('finds the sessions that exist among the ids, each once', async () => {
      await repo.create({ id: 'a', title: 'A' });
      await repo.create({ id: 'b' });
      await repo.create({ id: 'c' });
      const found = await repo.findManyByIds(['b', 'missing', 'a', 'b']);
      expect(found.map((session) => session.id).sort()).toEqual(['a', 'b']);
      expect(found.find((session) => session.id === 'a')).toEqual(await repo.findById('a'));
    });

    it('is empty for no ids', async () => {
      await repo.create({ id: 'a' });
      expect(await repo.findManyByIds([])).toEqual([]);
    });
  });

  describe('list', () => {
    /** Creates sessions at the given clock times, in order. */
    async function createAt(entries: [id: string, seconds: number][]): Promise<void> {
      for (const [id, seconds] of entries) {
        clockAt(seconds);
        await repo.create({ id });
      }
      jest.restoreAllMocks();
    }

    async function allPages(limit: number, profile?: string): Promise<Session[][]> {
      const pages: Session[][] = [];
      let cursor: string | undefined;
      do {
        const page = await repo.list({ limit, cursor, profile });
        pages.push(page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && pages.length < 50);
      return pages;
    }

    it('pages through sessions with tied last_active exactly once, newest first', async () => {
      await createAt([
        ['c', 100],
        ['a', 200],
        ['e', 200],
        ['b', 200],
        ['g', 200],
        ['d', 200],
        ['f', 300],
        ['h', 50],
      ]);
      const expected = ['f', 'g', 'e', 'd', 'b', 'a', 'c', 'h'];

      for (const limit of [1, 2, 3, 5, 8]) {
        const pages = await allPages(limit);
        expect(pages.flat().map((s) => s.id)).toEqual(expected);
        expect(pages.every((page) => page.length <= limit)).toBe(true);
      }
    });

    it('has no next cursor when the last page is exactly full', async () => {
      await createAt([
        ['a', 1],
        ['b', 2],
      ]);
      const page = await repo.list({ limit: 2 });
      expect(page.items.map((s) => s.id)).toEqual(['b', 'a']);
      expect(page.nextCursor).toBeNull();
    });

    it('is empty without sessions', async () => {
      expect(await repo.list({ limit: 5 })).toEqual({ items: [], nextCursor: null });
    });

    it('filters by profile across pages', async () => {
      for (const [id, profile] of [
        ['w1', 'work'],
        ['d1', 'default'],
        ['w2', 'work'],
        ['w3', 'work'],
      ]) {
        await repo.create({ id, profile });
      }
      const ids = (await allPages(1, 'work')).flat().map((s) => s.id);
      expect([...ids].sort()).toEqual(['w1', 'w2', 'w3']);
    });

    it('refuses a cursor it did not issue', async () => {
      const error = await appErrorOf(repo.list({ limit: 5, cursor: 'bogus' }));
      expect(error.code).toBe('invalid_cursor');
    });
  });

  describe('listMessages', () => {
    async function sessionWith(count: number): Promise<Message[]> {
      await repo.create({ id: 's1' });
      if (count === 0) return [];
      return append(
        's1',
        Array.from({ length: count }, (_, i) => user(`m${i}`)),
      );
    }

    it('is an empty page for an empty session', async () => {
      await sessionWith(0);
      expect(await repo.listMessages('s1', { limit: 5 })).toEqual({
        messages: [],
        hasMore: false,
        total: 0,
      });
    });

    it('has no more when the session holds exactly `limit` messages', async () => {
      const all = await sessionWith(3);
      expect(await repo.listMessages('s1', { limit: 3 })).toEqual({
        messages: all,
        hasMore: false,
        total: 3,
      });
    });

    it('pages backwards from the newest, each page chronological', async () => {
      const all = await sessionWith(5);
      const newest = await repo.listMessages('s1', { limit: 2 });
      expect(newest).toEqual({ messages: all.slice(3), hasMore: true, total: 5 });

      const middle = await repo.listMessages('s1', { limit: 2, before: newest.messages[0].id });
      expect(middle).toEqual({ messages: all.slice(1, 3), hasMore: true, total: 5 });

      const oldest = await repo.listMessages('s1', { limit: 2, before: middle.messages[0].id });
      expect(oldest).toEqual({ messages: all.slice(0, 1), hasMore: false, total: 5 });
    });

    it('pages by offset from the newest, each page chronological', async () => {
      const all = await sessionWith(5);
      expect(await repo.listMessages('s1', { limit: 2, skip: 0 })).toEqual({
        messages: all.slice(3),
        hasMore: true,
        total: 5,
      });
      expect(await repo.listMessages('s1', { limit: 2, skip: 2 })).toEqual({
        messages: all.slice(1, 3),
        hasMore: true,
        total: 5,
      });
      expect(await repo.listMessages('s1', { limit: 2, skip: 4 })).toEqual({
        messages: all.slice(0, 1),
        hasMore: false,
        total: 5,
      });
      // Past the oldest: an empty page that still counts the session's messages.
      expect(await repo.listMessages('s1', { limit: 2, skip: 9 })).toEqual({
        messages: [],
        hasMore: false,
        total: 5,
      });
      // Offset and cursor together: the offset counts from the cursor.
      expect(await repo.listMessages('s1', { limit: 1, skip: 1, before: all[3].id })).toEqual({
        messages: all.slice(1, 2),
        hasMore: true,
        total: 5,
      });
    });

    it('is an empty page before the first message', async () => {
      const all = await sessionWith(3);
      expect(await repo.listMessages('s1', { limit: 2, before: all[0].id })).toEqual({
        messages: [],
        hasMore: false,
        total: 3,
      });
    });

    it('does not show messages of other sessions', async () => {
      const own = await sessionWith(2);
      await repo.create({ id: 's2' });
      await append('s2', [user('other')]);
      expect(await repo.listMessages('s1', { limit: 10 })).toEqual({
        messages: own,
        hasMore: false,
        total: 2,
      });
    });

    it('refuses an unknown session', async () => {
      const error = await appErrorOf(repo.listMessages('nope', { limit: 5 }));
      expect(error.code).toBe('unknown_session');
    });
  });

  describe('streamMessages', () => {
    it('yields the whole transcript in order, a page at a time', async () => {
      await repo.create({ id: 's1' });
      await repo.create({ id: 's2' });
      const first = await append('s1', [user('1'), assistant('2'), user('3')]);
      await append('s2', [user('other')]);
      const second = await append('s1', [assistant('4'), user('5')]);

      const pages = await collect(repo.streamMessages('s1', 2));
      expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual([...first, ...second]);
    });

    it('ends cleanly when the last page is exactly full', async () => {
      await repo.create({ id: 's1' });
      const all = await append('s1', [user('1'), user('2'), user('3'), user('4')]);
      const pages = await collect(repo.streamMessages('s1', 2));
      expect(pages.flat()).toEqual(all);
      expect(pages.every((page) => page.length > 0)).toBe(true);
    });

    it('yields nothing for an empty session', async () => {
      await repo.create({ id: 's1' });
      expect(await collect(repo.streamMessages('s1', 2))).toEqual([]);
    });

    it('refuses an unknown session', async () => {
      const error = await appErrorOf(collect(repo.streamMessages('nope')));
      expect(error.code).toBe('unknown_session');
    });
  });

  describe('update', () => {
    it('changes only the given fields', async () => {
      await repo.create({ id: 's1', title: 'old', workspace: '/w' });
      expect(await repo.update('s1', { title: 'new' })).toMatchObject({
        title: 'new',
        workspace: '/w',
      });
      expect(await repo.update('s1', { workspace: null })).toMatchObject({
        title: 'new',
        workspace: null,
      });
      expect(await repo.findById('s1')).toMatchObject({ title: 'new', workspace: null });
    });

    it.each([{ title: 'x' }, {}])('refuses an unknown session (patch %j)', async (patch) => {
      const error = await appErrorOf(repo.update('nope', patch));
      expect(error).toMatchObject({ code: 'unknown_session', status: 404 });
    });
  });

  describe('delete', () => {
    it('removes the session and, by cascade, its messages only', async () => {
      await repo.create({ id: 's1' });
      await repo.create({ id: 's2' });
      await append('s1', [user('a'), assistant('b')]);
      await append('s2', [user('c')]);

      await repo.delete('s1');

      expect(await repo.findById('s1')).toBeNull();
      expect(await countRows('SELECT COUNT(*) AS n FROM messages WHERE session_id = ?', 's1')).toBe(
        0,
      );
      expect(await countRows('SELECT COUNT(*) AS n FROM messages WHERE session_id = ?', 's2')).toBe(
        1,
      );
    });

    it('refuses an unknown session', async () => {
      const error = await appErrorOf(repo.delete('nope'));
      expect(error).toMatchObject({ code: 'unknown_session', status: 404 });
    });
  });

  describe('search', () => {
    it('matches %, _ and \\ literally, in titles, previews and message content', async () => {
      await repo.create({ id: 'pct', title: 'Disk at 95% full' });
      await repo.create({ id: 'nine', title: 'Disk at 95 full' });
      await repo.create({ id: 'msg' });
      await append('msg', [assistant('use a\\b_c paths')]);
      await repo.create({ id: 'abc' });
      await append('abc', [assistant('use aXbYc paths')]);

      expect((await repo.search('95%', 10)).map((hit) => hit.session.id)).toEqual(['pct']);
      const hits = await repo.search('A\\B_C', 10);
      expect(hits.map((hit) => hit.session.id)).toEqual(['msg']);
      expect(hits[0].messageId).not.toBeNull();
      expect(hits[0].snippet).toBe('use a\\b_c paths');
    });
  });
});
