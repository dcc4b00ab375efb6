import { testDatabase, type TestDatabase } from '../testing/test-database';
import { TokenCounter } from '../tokens/token-counter';
import type { NewMessage, ToolCall } from './session.types';
import { appendMessages } from './testing/append-messages';
import { TranscriptStore } from './transcript.store';
import { TypeOrmSessionRepository } from './typeorm-session.repository';

const user = (content: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  role: 'user',
  content,
  ...extra,
});
const assistant = (content: string, extra: Partial<NewMessage> = {}): NewMessage => ({
  role: 'assistant',
  content,
  ...extra,
});

describe('TranscriptStore (SQLite in memory, migrated)', () => {
  const tokens = new TokenCounter();
  let db: TestDatabase;
  let store: TranscriptStore;
  let repo: TypeOrmSessionRepository;

  beforeAll(async () => {
    db = await testDatabase();
    store = new TranscriptStore(db.sql, tokens);
    repo = new TypeOrmSessionRepository(db.dataSource);
  });

  beforeEach(async () => {
    await db.dataSource.query('DELETE FROM sessions');
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    tokens.onModuleDestroy();
    await db?.destroy();
  });

  const append = (sessionId: string, messages: NewMessage[]) =>
    appendMessages(store, db.commit, sessionId, messages);

  const messageCount = async (): Promise<number> => {
    const [row] = await db.dataSource.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM messages');
    return Number(row.n);
  };

  describe('sessions', () => {
    it('creates a session unless it exists, and reads its facts', async () => {
      const row = { id: 's1', profile: 'work', model: 'm', title: 'Hi', createdAt: 1000.5 };
      expect(await db.commit.write((tx) => store.createSession(tx, row))).toBe(true);
      expect(
        await db.commit.write((tx) => store.createSession(tx, { ...row, title: 'again' })),
      ).toBe(false);

      expect(await store.facts('s1')).toEqual({
        id: 's1',
        profile: 'work',
        workspace: null,
        createdAt: 1000.5,
        messageCount: 0,
        context: { inputTokens: 0, outputTokens: 0 },
      });
      expect((await repo.findById('s1'))?.title).toBe('Hi');
      expect(await store.facts('nope')).toBeNull();
    });

    it('folds counters, preview, estimate and usage into one update', async () => {
      await repo.create({ id: 's1' });
      await db.commit.write((tx) =>
        store.touchSession(tx, 's1', {
          addedMessages: 2,
          previewFrom: '  How do I\nrotate logs?  ',
          context: { inputTokens: 10, outputTokens: 20 },
          usage: {
            inputTokens: 1,
            outputTokens: 2,
            cacheReadTokens: 3,
            cacheWriteTokens: 4,
            reasoningTokens: 5,
          },
          at: 2000,
        }),
      );
      await db.commit.write((tx) =>
        store.touchSession(tx, 's1', { previewFrom: 'later', at: 3000 }),
      );

      expect(await repo.findById('s1')).toMatchObject({
        messageCount: 2,
        lastActive: 3000,
        preview: 'How do I rotate logs?',
        context: { inputTokens: 10, outputTokens: 20 },
        inputTokens: 1,
        outputTokens: 2,
        cacheReadTokens: 3,
        cacheWriteTokens: 4,
        reasoningTokens: 5,
      });
    });

    it('touches a session only while it is the one created at the given time', async () => {
      const created = await repo.create({ id: 's1' });
      const touch = (createdAt: number) =>
        db.commit.write((tx) => store.touchSame(tx, 's1', createdAt, { addedMessages: 1, at: 1 }));

      expect(await touch(created.createdAt)).toBe(true);
      expect(await touch(created.createdAt + 1)).toBe(false);
      await repo.delete('s1');
      expect(await touch(created.createdAt)).toBe(false);
    });

    it('keeps the preview within 100 characters', async () => {
      await repo.create({ id: 's1' });
      await append('s1', [user('x'.repeat(300))]);
      expect((await repo.findById('s1'))?.preview).toBe('x'.repeat(100));
    });
  });

  describe('messages', () => {
    it('stores messages in order with their fields and token counts', async () => {
      await repo.create({ id: 's1' });
      const toolCalls: ToolCall[] = [
        { id: 'call_1', type: 'function', function: { name: 'search', arguments: '{"q":"x"}' } },
      ];
      const ids = await append('s1', [
        user('hello world'),
        assistant('', { toolCalls, reasoning: 'think', runId: 'run_1' }),
        { role: 'tool', content: 'found it', toolCallId: 'call_1', toolName: 'search' },
        assistant('done', { finishReason: 'stop', timestamp: 42.5 }),
      ]);

      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      const { messages } = await repo.listMessages('s1', { limit: 10 });
      expect(messages.map((m) => m.id)).toEqual(ids);
      expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
      expect(messages[1]).toMatchObject({ toolCalls, reasoning: 'think', runId: 'run_1' });
      expect(messages[2]).toMatchObject({ toolCallId: 'call_1', toolName: 'search' });
      expect(messages[3]).toMatchObject({ finishReason: 'stop', timestamp: 42.5 });
      expect(messages[0].tokenCount).toBeGreaterThanOrEqual(2);
      // What later histories send: the tool call JSON, not the reasoning (never sent back).
      expect(messages[1].tokenCount).toBe(tokens.countInline(JSON.stringify(toolCalls)));
      for (const message of messages) expect(message.tokenCount).toBeGreaterThan(0);
      expect(await repo.findById('s1')).toMatchObject({ messageCount: 4, preview: 'hello world' });
    });

    it('updates a stored message, and its token count only when one is given', async () => {
      await repo.create({ id: 's1' });
      const [id] = await append('s1', [assistant('draft')]);
      const counted = (await repo.listMessages('s1', { limit: 1 })).messages[0].tokenCount;
      const update = {
        id,
        content: 'draft grew',
        reasoning: 'r',
        toolCalls: null,
        toolCallId: null,
        toolName: null,
        finishReason: null,
      };

      await db.commit.write((tx) => store.updateMessages(tx, 's1', [update]));
      let [message] = (await repo.listMessages('s1', { limit: 1 })).messages;
      expect(message).toMatchObject({ content: 'draft grew', reasoning: 'r', tokenCount: counted });

      await db.commit.write((tx) =>
        store.updateMessages(tx, 's1', [{ ...update, finishReason: 'stop', tokenCount: 99 }]),
      );
      [message] = (await repo.listMessages('s1', { limit: 1 })).messages;
      expect(message).toMatchObject({ finishReason: 'stop', tokenCount: 99 });
    });

    it('is atomic: a failing row undoes the rows and counters before it', async () => {
      await repo.create({ id: 's1' });
      await append('s1', [user('kept')]);
      // content is NOT NULL: the second row fails inside the transaction.
      const broken = { role: 'assistant', content: null } as unknown as NewMessage;

      await expect(append('s1', [user('rolled back'), broken])).rejects.toThrow(/NOT NULL/);

      expect(await messageCount()).toBe(1);
      expect(await repo.findById('s1')).toMatchObject({ messageCount: 1, preview: 'kept' });
    });

    it('refuses messages of an unknown session and writes nothing', async () => {
      await expect(append('nope', [user('hi')])).rejects.toThrow(/FOREIGN KEY/);
      expect(await messageCount()).toBe(0);
    });

    it('reads a stretch of history, the token sums after an id, and one run', async () => {
      await repo.create({ id: 's1' });
      await repo.create({ id: 's2' });
      const ids = await append('s1', [
        user('one', { runId: 'r1' }),
        assistant('two', { runId: 'r1' }),
        user('three', { runId: 'r2' }),
        assistant('four', { runId: 'r2' }),
      ]);
      await append('s2', [user('other', { runId: 'r2' })]);

      const history = await store.historyBetween('s1', ids[0], ids[2], 10);
      expect(history.map((m) => [m.id, m.role, m.content])).toEqual([
        [ids[1], 'assistant', 'two'],
        [ids[2], 'user', 'three'],
      ]);
      // At most `limit`, the oldest first.
      expect((await store.historyBetween('s1', 0, ids[3], 2)).map((m) => m.id)).toEqual(
        ids.slice(0, 2),
      );
      expect(history[0].tokenCount).toBeGreaterThan(0);

      const after = await store.tokensAfter('s1', ids[1]);
      expect(after).toEqual({
        userTokens: tokens.countInline('three'),
        otherTokens: tokens.countInline('four'),
        messages: 2,
      });
      expect(await store.tokensAfter('s1', ids[3])).toEqual({
        userTokens: 0,
        otherTokens: 0,
        messages: 0,
      });

      const run = await store.messagesOfRun('s1', 'r2');
      expect(run.map((m) => m.content)).toEqual(['three', 'four']);
    });
  });
});
