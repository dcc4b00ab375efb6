import { DataSource } from 'typeorm';
import type { CompressionCompletedPayload, CompressionStartedPayload } from './compression.events';
import { configFor } from '../config/testing/config-for';
import { testDatabase, type TestDatabase } from '../testing/test-database';
import { HermesProfiles } from '../hermes/hermes-profiles';
import { EphemeralSessionCleanup } from '../hermes/home/ephemeral-session-cleanup';
import { HermesCleanupTask } from '../hermes/home/hermes-cleanup-task.entity';
import type { Message, NewMessage } from '../sessions/session.types';
import { appendMessages } from '../sessions/testing/append-messages';
import { TranscriptStore } from '../sessions/transcript.store';
import { TypeOrmSessionRepository } from '../sessions/typeorm-session.repository';
import { UsageStore } from '../usage/usage.store';
import {
  CompressionService,
  estimateAfterRun,
  type CompressionListener,
  type HistoryRequest,
} from './compression.service';
import { budgetFor } from './context-window';
import { SnapshotStore } from './snapshot.store';
import { Summariser, SUMMARY_PREFIX, type Summary, type SummaryRequest } from './summariser';
import { TokenCounter } from '../tokens/token-counter';

/** The upstream boundary: answers (or fails) like the Hermes summariser run would. */
class ScriptedSummariser {
  readonly requests: SummaryRequest[] = [];
  failWith: string | undefined;
  summaryText = (request: SummaryRequest): string =>
    `summary ${this.requests.length} of ${request.turns.length} turns`;

  summarise(request: SummaryRequest): Promise<Summary> {
    this.requests.push(request);
    if (this.failWith) return Promise.reject(new Error(this.failWith));
    return Promise.resolve({
      text: this.summaryText(request),
      usage: { input_tokens: 100, output_tokens: 10 },
    });
  }
}

/** Collects what the room would be sent. */
function recordingListener() {
  const started: CompressionStartedPayload[] = [];
  const completed: CompressionCompletedPayload[] = [];
  const listener: CompressionListener = {
    started: (payload) => void started.push(payload),
    completed: (payload) => void completed.push(payload),
  };
  return { started, completed, listener };
}

// 2,048 tokens of context, threshold 0.5: the trigger is 1,024 tokens, the verbatim tail at
// most 256 (0.25) and a summary at most 153 (0.15).
const CONTEXT_LENGTH = '2048';

/** Twelve words are about 50 tokens: 12 turns of them cross the trigger in one chunk. */
const SMALL = 12;

/** `n` distinct words (3–4 tokens each). */
const words = (n: number, tag: string): string =>
  Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

describe('CompressionService (SQLite in memory, scripted summariser)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let sessions: TypeOrmSessionRepository;
  let transcripts: TranscriptStore;
  let snapshots: SnapshotStore;
  let summariser: ScriptedSummariser;
  let service: CompressionService;
  const tokens = new TokenCounter();
  const config = configFor({ HERMES_CONTEXT_LENGTH: CONTEXT_LENGTH });
  const budget = budgetFor(2048, config.compression);
  let runs = 0;

  beforeEach(async () => {
    db = await testDatabase();
    dataSource = db.dataSource;
    sessions = new TypeOrmSessionRepository(dataSource);
    transcripts = new TranscriptStore(db.sql, tokens);
    snapshots = new SnapshotStore(db.sql, db.commit);
    summariser = new ScriptedSummariser();
    const profiles = new HermesProfiles(config);
    service = new CompressionService(
      transcripts,
      snapshots,
      summariser as unknown as Summariser,
      usageStore(),
      profiles,
      new EphemeralSessionCleanup(dataSource.getRepository(HermesCleanupTask), profiles),
      tokens,
      config,
    );
    await sessions.create({ id: 's1' });
    runs = 0;
  });

  afterEach(async () => {
    await db.destroy();
  });

  const usageStore = () => new UsageStore(dataSource, db.sql, db.commit, transcripts);

  /** Every stored message of s1, in order. */
  const stored = async (afterId = 0): Promise<Message[]> =>
    (await sessions.listMessages('s1', { limit: 10_000 })).messages.filter((m) => m.id > afterId);

  afterAll(() => tokens.onModuleDestroy());

  /** Stores `messages`, then a user message for the run, and prepares its history. */
  async function runAfter(messages: NewMessage[], input = 'next question') {
    await appendMessages(transcripts, db.commit, 's1', messages);
    const [userId] = await appendMessages(transcripts, db.commit, 's1', [
      { role: 'user', content: input },
    ]);
    const user = { id: userId };
    const request: HistoryRequest = {
      sessionId: 's1',
      runId: `run${++runs}`,
      profile: 'default',
      model: null,
      userMessageId: user.id,
      sessionCreatedAt: (await sessions.findById('s1'))!.createdAt,
    };
    const recorder = recordingListener();
    const prepared = await service.prepare(request, recorder.listener);
    return { prepared, recorder, user };
  }

  const turn = (n: number, tag: string): NewMessage[] => [
    { role: 'user', content: words(n, `${tag}u`) },
    { role: 'assistant', content: words(n, `${tag}a`) },
  ];

  it('sends the whole history, untouched, while it is under the trigger', async () => {
    const { prepared, recorder } = await runAfter([...turn(50, 'a'), ...turn(50, 'b')]);

    expect(recorder.started).toEqual([]);
    expect(recorder.completed).toEqual([]);
    expect(summariser.requests).toEqual([]);
    expect(prepared.history.turns().map((t) => t.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    expect(prepared.history.turns()[0].content).toBe(words(50, 'au'));
    const all = await stored();
    const userTokens = all.filter((m) => m.role === 'user').reduce((n, m) => n + m.tokenCount, 0);
    const otherTokens = all.filter((m) => m.role !== 'user').reduce((n, m) => n + m.tokenCount, 0);
    expect(prepared.estimate).toEqual({ inputTokens: userTokens, outputTokens: otherTokens });
  });

  it('summarises the older turns, keeps the newest verbatim, and lands well under the trigger', async () => {
    const history = Array.from({ length: 12 }, (_, i) => turn(SMALL, `t${i}`)).flat();
    const { prepared, recorder } = await runAfter(history);

    expect(recorder.started).toHaveLength(1);
    expect(recorder.started[0].message_count).toBe(24);
    expect(recorder.started[0].token_count).toBeGreaterThan(budget.trigger);
    expect(summariser.requests).toHaveLength(1);
    const [request] = summariser.requests;
    expect(request.previous).toBeNull();
    expect(request.key).toBe('run1.s0');

    const [done] = recorder.completed;
    expect(done).toMatchObject({ compressed: true, llmCompressed: true, totalMessages: 24 });
    expect(done.error).toBeUndefined();
    expect(done.afterTokens).toBeLessThanOrEqual(budget.tail + budget.summary + 10);
    expect(done.afterTokens).toBeLessThan(budget.trigger / 2);
    expect(done.verbatimCount).toBeGreaterThan(0);
    expect(request.turns).toHaveLength(24 - done.verbatimCount);

    // History: the summary, then exactly the messages it does not cover, in order.
    expect(prepared.history.turns()[0].content).toBe(
      `${SUMMARY_PREFIX}\n\nsummary 1 of ${request.turns.length} turns`,
    );
    expect(
      prepared.history
        .turns()
        .slice(1)
        .map((t) => t.content),
    ).toEqual(history.slice(24 - done.verbatimCount).map((m) => m.content));
    const snapshot = await snapshots.find('s1');
    const all = await stored();
    expect(snapshot).toMatchObject({ lastMessageId: all[23 - done.verbatimCount].id });
    expect(done.compressedStartIndex).toBe(all[0].id);
    // The transcript itself is untouched.
    expect(all).toHaveLength(25);
  });

  it('compresses once per crossing: the next turns reuse the snapshot, then update it incrementally', async () => {
    await runAfter(Array.from({ length: 12 }, (_, i) => turn(SMALL, `t${i}`)).flat());
    expect(summariser.requests).toHaveLength(1);

    // A few more turns stay under the trigger: no summariser run, summary + new messages.
    const second = await runAfter(turn(8, 'n'));
    expect(summariser.requests).toHaveLength(1);
    expect(second.recorder.started).toEqual([]);
    expect(second.prepared.history.turns()[0].content).toContain('summary 1 of');

    // Far more crosses again: the previous summary is updated with the turns since.
    const third = await runAfter(Array.from({ length: 10 }, (_, i) => turn(SMALL, `m${i}`)).flat());
    expect(summariser.requests).toHaveLength(2);
    expect(summariser.requests[1].previous).toContain('summary 1 of');
    expect(summariser.requests[1].turns[0].content).not.toContain('t0u');
    expect(third.recorder.completed[0]).toMatchObject({ compressed: true, llmCompressed: true });
    expect(third.prepared.history.turns()[0].content).toContain('summary 2 of');
  });

  it('never splits a tool call from its results between summary and tail', async () => {
    const calls = (i: number) => [
      { id: `call_${i}`, type: 'function' as const, function: { name: 'grep', arguments: '{}' } },
    ];
    const history: NewMessage[] = [];
    for (let i = 0; i < 10; i++) {
      history.push({ role: 'user', content: words(30, `q${i}`) });
      history.push({ role: 'assistant', content: '', toolCalls: calls(i) });
      history.push({
        role: 'tool',
        content: words(60, `r${i}`),
        toolCallId: `call_${i}`,
        toolName: 'grep',
      });
      history.push({ role: 'assistant', content: words(20, `a${i}`) });
    }
    const { prepared } = await runAfter(history);

    const turns = prepared.history.turns().slice(1);
    expect(turns[0].role).toBe('user');
    expect(turns[0].content).toMatch(/^q\d+0 /);
    for (const [index, t] of turns.entries()) {
      if (t.content.startsWith('[Tool result')) {
        expect(turns[index - 1].content).toMatch(/^\[Tool call: grep/);
      }
    }
  });

  it('when summarising fails, sends the old summary and the newest turns that fit, and says so', async () => {
    summariser.failWith = 'upstream 503';
    const history = Array.from({ length: 12 }, (_, i) => turn(60, `t${i}`)).flat();
    const { prepared, recorder } = await runAfter(history);

    const [done] = recorder.completed;
    expect(done.compressed).toBe(true);
    expect(done.llmCompressed).toBe(false);
    expect(done.error).toMatch(/Summarising failed \(upstream 503\)/);
    expect(done.error).toMatch(new RegExp(`newest ${done.verbatimCount} of 24 messages`));
    expect(done.afterTokens).toBeLessThanOrEqual(budget.trigger);
    // The newest messages, contiguous up to the run's own message; nothing silently reordered.
    expect(prepared.history.turns().map((t) => t.content)).toEqual(
      history.slice(24 - done.verbatimCount).map((m) => m.content),
    );
    expect(await snapshots.find('s1')).toBeNull();
    expect(await stored()).toHaveLength(25);
  });

  it('keeps the snapshot made before a later chunk failed', async () => {
    // A long first stretch is summarised in several runs; the second one fails.
    let calls = 0;
    const original = summariser.summarise.bind(summariser);
    summariser.summarise = (request) =>
      ++calls === 2 ? Promise.reject(new Error('timeout')) : original(request);
    const history = Array.from({ length: 40 }, (_, i) => turn(60, `t${i}`)).flat();
    const { prepared, recorder } = await runAfter(history);

    expect(calls).toBe(2);
    const snapshot = await snapshots.find('s1');
    expect(snapshot).not.toBeNull();
    const [done] = recorder.completed;
    expect(done).toMatchObject({ compressed: true, llmCompressed: true });
    expect(done.error).toMatch(/timeout/);
    expect(prepared.history.turns()[0].content).toContain(SUMMARY_PREFIX);
    expect(done.afterTokens).toBeLessThanOrEqual(budget.trigger);
  });

  it('currentEstimate adds up stored counts after the snapshot', async () => {
    await runAfter(Array.from({ length: 12 }, (_, i) => turn(SMALL, `t${i}`)).flat());
    const snapshot = (await snapshots.find('s1'))!;
    const after = await stored(snapshot.lastMessageId);
    expect(await service.currentEstimate('s1')).toEqual({
      inputTokens:
        snapshot.summaryTokens +
        after.filter((m) => m.role === 'user').reduce((n, m) => n + m.tokenCount, 0),
      outputTokens: after.filter((m) => m.role !== 'user').reduce((n, m) => n + m.tokenCount, 0),
    });
  });

  it('after a run, adds only the run’s own messages to the estimate it was prepared with', async () => {
    const { prepared } = await runAfter(turn(SMALL, 'a'));
    await appendMessages(transcripts, db.commit, 's1', [
      { role: 'assistant', content: words(SMALL, 'reply') },
    ]);
    const [reply] = (await stored()).slice(-1);

    const estimate = estimateAfterRun(prepared.estimate, [reply]);
    expect(estimate).toEqual({
      inputTokens: prepared.estimate.inputTokens,
      outputTokens: prepared.estimate.outputTokens + reply.tokenCount,
    });
    // The same figure as adding everything up again.
    expect(await service.currentEstimate('s1')).toEqual(estimate);
  });

  it('records the summariser run usage against the session', async () => {
    await runAfter(Array.from({ length: 12 }, (_, i) => turn(SMALL, `t${i}`)).flat());
    const usage = await usageStore().runsOf('s1', 10);
    expect(usage).toEqual([
      expect.objectContaining({
        runId: 'run1.s0',
        kind: 'compression',
        inputTokens: 100,
        outputTokens: 10,
      }),
    ]);
    expect(await sessions.findById('s1')).toMatchObject({ inputTokens: 100, outputTokens: 10 });
  });
});
