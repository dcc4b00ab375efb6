import type { HermesRunEvent } from '../../hermes/hermes-events';
import { TranscriptStore } from '../../sessions/transcript.store';
import { TypeOrmSessionRepository } from '../../sessions/typeorm-session.repository';
import { testDatabase, type TestDatabase } from '../../testing/test-database';
import { TokenCounter } from '../../tokens/token-counter';
import { UsageStore } from '../../usage/usage.store';
import { foldEvent, initialTranscript } from '../transcript/transcript.reducer';
import { RunLedger, SessionChangedError } from './run-ledger';
import { RunStore, type NewRun, type RunRecord } from './run.store';
import { TranscriptWriter } from './transcript-writer';

const runOf = (id: string, sessionId = 's1', queueId = `q-${id}`): NewRun => ({
  id,
  sessionId,
  queueId,
  profile: 'default',
  input: `input of ${id}`,
  model: null,
  instructions: null,
});

const delta = (text: string): HermesRunEvent => ({
  type: 'message.delta',
  payload: { event: 'message.delta', run_id: 'up', timestamp: 1, delta: text },
});

describe('RunLedger (SQLite in memory, migrated)', () => {
  const tokens = new TokenCounter();
  let db: TestDatabase;
  let sessions: TypeOrmSessionRepository;
  let transcripts: TranscriptStore;
  let ledger: RunLedger;
  let createdAt: number;

  const rows = <T>(sql: string, ...params: unknown[]) => db.dataSource.query<T[]>(sql, params);

  beforeAll(async () => {
    db = await testDatabase();
    sessions = new TypeOrmSessionRepository(db.dataSource);
    transcripts = new TranscriptStore(db.sql, tokens);
    const usage = new UsageStore(db.dataSource, db.sql, db.commit, transcripts);
    ledger = new RunLedger(db.commit, new RunStore(db.sql), transcripts, usage, db.leases);
  });

  beforeEach(async () => {
    await db.dataSource.query('DELETE FROM sessions');
    createdAt = (await sessions.create({ id: 's1' })).createdAt;
  });

  afterAll(async () => {
    tokens.onModuleDestroy();
    await db?.destroy();
  });

  it('stores a starting run with its user message in one write, or neither', async () => {
    const accepted = await ledger.accept({
      run: runOf('r1'),
      start: true,
      clientQueueId: true,
      session: { createdAt },
    });
    expect(accepted).toMatchObject({ duplicate: false, userMessage: { id: expect.any(Number) } });
    const [run] = await rows<{ status: string; user_message_id: number }>(
      'SELECT status, user_message_id FROM runs WHERE id = ?',
      'r1',
    );
    expect(run).toEqual({
      status: 'starting',
      user_message_id: accepted.duplicate ? -1 : accepted.userMessage?.id,
    });

    // The same run id again: the run insert fails after the user message was written, and the
    // whole write is undone (a crash in between can never leave the message without its run).
    await expect(
      ledger.accept({
        run: { ...runOf('r1'), queueId: 'another' },
        start: true,
        clientQueueId: true,
        session: { createdAt },
      }),
    ).rejects.toThrow(/UNIQUE/);
    const messages = await rows<{ content: string }>('SELECT content FROM messages');
    expect(messages).toEqual([{ content: 'input of r1' }]);
    expect(await sessions.findById('s1')).toMatchObject({ messageCount: 1 });
  });

  it('answers a recent queue_id of the session as a duplicate and writes nothing', async () => {
    await ledger.accept({
      run: runOf('r1'),
      start: false,
      clientQueueId: true,
      session: { createdAt },
    });
    const again = await ledger.accept({
      run: { ...runOf('r2'), queueId: 'q-r1' },
      start: true,
      clientQueueId: true,
      session: { createdAt },
    });
    expect(again).toEqual({ duplicate: true });
    expect(await rows('SELECT id FROM runs')).toEqual([{ id: 'r1' }]);
    expect(await rows('SELECT id FROM messages')).toEqual([]);
  });

  it('refuses a session that is not the one read (deleted, or created again) and writes nothing', async () => {
    const request = { run: runOf('r1'), start: true, clientQueueId: false };
    await expect(
      ledger.accept({ ...request, session: { createdAt: createdAt + 1 } }),
    ).rejects.toThrow(SessionChangedError);
    await sessions.delete('s1');
    await expect(ledger.accept({ ...request, session: { createdAt } })).rejects.toThrow(
      SessionChangedError,
    );
    expect(await rows('SELECT id FROM runs')).toEqual([]);
    expect(await rows('SELECT id FROM messages')).toEqual([]);
  });

  it('begins a queued run with its user message, and nothing for a run no longer queued', async () => {
    await ledger.accept({
      run: runOf('r1'),
      start: false,
      clientQueueId: false,
      session: { createdAt },
    });
    const [queued] = await new RunStore(db.sql).queued('s1');
    const message = await ledger.begin(queued, createdAt);
    expect(message).toEqual({ id: expect.any(Number), tokenCount: expect.any(Number) });
    expect(await rows('SELECT status, user_message_id FROM runs WHERE id = ?', 'r1')).toEqual([
      { status: 'starting', user_message_id: message?.id },
    ]);

    expect(await ledger.begin(queued, createdAt)).toBeNull();
    expect(await rows('SELECT COUNT(*) AS n FROM messages')).toEqual([{ n: 1 }]);
  });

  it('settles a run in one write: a failing part leaves its reply unstored and the run active', async () => {
    const accepted = await ledger.accept({
      run: runOf('r1'),
      start: true,
      clientQueueId: false,
      session: { createdAt },
    });
    const run: RunRecord = {
      ...runOf('r1'),
      status: 'starting',
      upstreamRunId: null,
      userMessageId: accepted.duplicate ? null : (accepted.userMessage?.id ?? null),
      createdAt: 1,
      startedAt: 1,
    };
    const writer = new TranscriptWriter(transcripts, 's1', 'r1');
    const transcript = foldEvent(initialTranscript('r1'), delta('the reply'));
    const settlement = {
      run,
      writer,
      transcript: await writer.plan(transcript, true),
      end: { status: 'completed' as const },
      usage: {
        sessionId: 's1',
        runId: 'r1',
        kind: 'run' as const,
        profile: 'default',
        model: null,
        usage: { input_tokens: 5, output_tokens: 7 },
      },
      estimate: { inputTokens: 3, outputTokens: 4 },
    };

    // A usage row of an unknown session breaks the write after the reply and the run's end.
    await expect(
      ledger.settle({ ...settlement, usage: { ...settlement.usage, sessionId: 'gone' } }),
    ).rejects.toThrow(/FOREIGN KEY/);
    expect(await rows('SELECT role FROM messages ORDER BY id')).toEqual([{ role: 'user' }]);
    expect(await rows('SELECT status FROM runs')).toEqual([{ status: 'starting' }]);
    expect(writer.storedIds).toEqual([]);

    await ledger.settle(settlement);
    expect(await rows('SELECT role, content FROM messages ORDER BY id')).toEqual([
      { role: 'user', content: 'input of r1' },
      { role: 'assistant', content: 'the reply' },
    ]);
    expect(await rows('SELECT status FROM runs')).toEqual([{ status: 'completed' }]);
    expect(await sessions.findById('s1')).toMatchObject({
      messageCount: 2,
      inputTokens: 5,
      outputTokens: 7,
      context: { inputTokens: 3, outputTokens: 4 },
    });
    expect(writer.storedIds).toHaveLength(1);
  });
});
