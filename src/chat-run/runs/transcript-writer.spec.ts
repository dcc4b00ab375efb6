import { testDatabase, type TestDatabase } from '../../testing/test-database';
import type { HermesRunEvent } from '../../hermes/hermes-events';
import type { Message } from '../../sessions/session.types';
import { appendMessages } from '../../sessions/testing/append-messages';
import { TranscriptStore } from '../../sessions/transcript.store';
import { TypeOrmSessionRepository } from '../../sessions/typeorm-session.repository';
import { TokenCounter } from '../../tokens/token-counter';
import { foldEvent, initialTranscript, RunTranscript } from '../transcript/transcript.reducer';
import { transcriptFromStored } from './recovered-transcript';
import { TranscriptWriter } from './transcript-writer';

const RUN = 'run_1';
const base = { run_id: RUN, timestamp: 1 };

const delta = (text: string): HermesRunEvent => ({
  type: 'message.delta',
  payload: { ...base, event: 'message.delta', delta: text },
});
const toolStarted = (tool: string, id: string): HermesRunEvent => ({
  type: 'tool.started',
  payload: { ...base, event: 'tool.started', tool, tool_call_id: id },
});
const toolCompleted = (tool: string, id: string, output: string): HermesRunEvent => ({
  type: 'tool.completed',
  payload: { ...base, event: 'tool.completed', tool, tool_call_id: id, output },
});
const completed = (): HermesRunEvent => ({
  type: 'run.completed',
  payload: { ...base, event: 'run.completed' },
});

const fold = (state: RunTranscript, ...events: HermesRunEvent[]): RunTranscript =>
  events.reduce(foldEvent, state);

describe('TranscriptWriter (real store on SQLite in memory)', () => {
  const tokens = new TokenCounter();
  let db: TestDatabase;
  let repository: TypeOrmSessionRepository;
  let transcripts: TranscriptStore;
  let sessionCounter = 0;
  let sessionId: string;

  const stored = async (): Promise<Message[]> =>
    (await repository.listMessages(sessionId, { limit: 1000 })).messages.filter(
      (message) => message.runId === RUN,
    );

  /** Plans, stores and records one write, as the run's recorder does; the plan it stored. */
  const write = async (writer: TranscriptWriter, transcript: RunTranscript, final: boolean) => {
    const plan = await writer.plan(transcript, final);
    if (!plan) return null;
    const ids = await db.commit.write((tx) => writer.apply(tx, plan, Date.now() / 1000));
    writer.committed(plan, ids);
    return plan;
  };

  const newWriter = () => new TranscriptWriter(transcripts, sessionId, RUN);

  beforeAll(async () => {
    db = await testDatabase();
    repository = new TypeOrmSessionRepository(db.dataSource);
    transcripts = new TranscriptStore(db.sql, tokens);
  });

  beforeEach(async () => {
    sessionId = `s${++sessionCounter}`;
    await repository.create({ id: sessionId });
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    tokens.onModuleDestroy();
    await db?.destroy();
  });

  it('inserts new drafts, writes only the drafts that changed, and plans nothing when unchanged', async () => {
    const writer = newWriter();

    const t1 = fold(initialTranscript(RUN), delta('Let me look'));
    const first = await write(writer, t1, false);
    expect(first).toMatchObject({ updates: [], inserts: [{ content: 'Let me look' }] });
    const [assistant] = await stored();
    expect(assistant).toMatchObject({ role: 'assistant', content: 'Let me look', runId: RUN });
    expect(writer.storedIds).toEqual([assistant.id]);

    // The tool call changes the assistant draft (not its text) and adds a tool draft.
    const t2 = fold(t1, toolStarted('terminal', 'call_a'));
    const second = await write(writer, t2, false);
    expect(second?.updates).toEqual([]);
    expect(second?.appends).toMatchObject([
      { id: assistant.id, contentTail: '', finishReason: 'tool_calls' },
    ]);
    expect(second?.inserts.map((insert) => insert.role)).toEqual(['tool']);
    const [, tool] = await stored();
    expect(tool).toMatchObject({ role: 'tool', toolCallId: 'call_a', content: '' });

    // Only the tool draft changes; the assistant draft keeps its identity and is not rewritten.
    const t3 = fold(t2, toolCompleted('terminal', 'call_a', 'file.txt'));
    expect(t3.messages[0]).toBe(t2.messages[0]);
    const third = await write(writer, t3, false);
    expect(third?.appends.map((append) => [append.id, append.contentTail])).toEqual([
      [tool.id, 'file.txt'],
    ]);
    expect(third?.inserts).toEqual([]);

    // Nothing changed: nothing is written at all.
    expect(await writer.plan(t3, false)).toBeNull();

    expect((await stored()).map((message) => [message.role, message.content])).toEqual([
      ['assistant', 'Let me look'],
      ['tool', 'file.txt'],
    ]);
    expect((await stored()).map((message) => message.toolCalls)).toEqual([
      [{ id: 'call_a', type: 'function', function: { name: 'terminal', arguments: '{}' } }],
      null,
    ]);
  });

  it('sends only the text that streamed since the last write, and stores the whole of it', async () => {
    const writer = newWriter();
    const reasoning = (text: string): HermesRunEvent => ({
      type: 'reasoning.delta',
      payload: { ...base, event: 'reasoning.delta', text },
    });
    let transcript = fold(initialTranscript(RUN), delta('a'.repeat(100_000)));
    await write(writer, transcript, false);
    const sent: number[] = [];
    // What was added is known from how the reducer grew the draft: the long text is not read.
    const reads = jest.spyOn(String.prototype, 'startsWith');
    for (let i = 0; i < 5; i++) {
      transcript = fold(transcript, delta(` part ${i}`), reasoning(i === 0 ? 'hm' : ` ${i}`));
      const plan = await write(writer, transcript, false);
      expect(plan?.updates).toEqual([]);
      sent.push(
        plan!.appends[0].contentTail.length + (plan!.appends[0].reasoningTail ?? '').length,
      );
    }
    // Each write carried what streamed since the one before, never the 100,000 characters again.
    expect(sent).toEqual([9, 9, 9, 9, 9]);
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    const [assistant] = await stored();
    expect(assistant.content).toBe(transcript.messages[0].content);
    expect(assistant.reasoning).toBe('hm 1 2 3 4');

    // The final write rewrites it whole.
    const final = await write(writer, fold(transcript, completed()), true);
    expect(final?.appends).toEqual([]);
    expect(final?.updates.map((update) => update.content)).toEqual([assistant.content]);
  });

  it('rewrites a draft whole when its text did not only grow, and keeps a NULL reasoning NULL', async () => {
    const writer = newWriter();
    const t1 = fold(initialTranscript(RUN), delta('first draft'));
    await write(writer, t1, false);
    const grown = fold(t1, delta(' and more'));
    const appended = await write(writer, grown, false);
    expect(appended?.appends).toMatchObject([{ contentTail: ' and more', reasoningTail: null }]);
    expect((await stored())[0].reasoning).toBeNull();

    // Not an extension of what is stored (as after the terminal normalisation of a block array).
    const replaced: RunTranscript = {
      ...grown,
      messages: [{ ...grown.messages[0], content: 'another text' }],
    };
    const rewrite = await write(writer, replaced, false);
    expect(rewrite?.appends).toEqual([]);
    expect(rewrite?.updates).toMatchObject([{ content: 'another text' }]);
    expect((await stored())[0].content).toBe('another text');
  });

  it('rewrites every draft on the final write, with fresh token counts', async () => {
    const writer = newWriter();
    const t1 = fold(initialTranscript(RUN), delta('Hel'), toolStarted('terminal', 'call_a'));
    await write(writer, t1, false);
    const before = await stored();
    // Drafts still streaming are not tokenised: the final write counts them once.
    expect(before.map((message) => message.tokenCount)).toEqual([0, 0]);

    const t2 = fold(
      t1,
      toolCompleted('terminal', 'call_a', 'a much longer tool output than before'),
      delta('The answer is forty-two.'),
      completed(),
    );
    // The assistant draft that called the tool is unchanged, yet the final write includes it.
    expect(t2.messages[0]).toBe(t1.messages[0]);
    const final = await write(writer, t2, true);

    expect(final?.updates.map((update) => update.id)).toEqual(before.map((message) => message.id));
    const after = await stored();
    expect(after.map((message) => [message.role, message.content, message.finishReason])).toEqual([
      ['assistant', 'Hel', 'tool_calls'],
      ['tool', 'a much longer tool output than before', null],
      ['assistant', 'The answer is forty-two.', 'stop'],
    ]);
    expect(after[0].tokenCount).toBe(
      await tokens.count('Hel' + '\n' + JSON.stringify(t1.messages[0].toolCalls)),
    );
    expect(after[1].tokenCount).toBe(await tokens.count('a much longer tool output than before'));
    expect(after[2].tokenCount).toBe(await tokens.count('The answer is forty-two.'));
    // The counts by draft, for the context estimate.
    expect(final?.tokenCounts).toEqual(after.map((message) => message.tokenCount));
  });

  it('keeps a stale token count on non-final updates (counted once, at the end)', async () => {
    const writer = newWriter();
    const t1 = fold(initialTranscript(RUN), delta('Hi'));
    await write(writer, t1, false);
    const [first] = await stored();
    await write(writer, fold(t1, delta(' there, a longer text now')), false);
    const [second] = await stored();
    expect(second.content).toBe('Hi there, a longer text now');
    expect(second.tokenCount).toBe(first.tokenCount);
  });

  it('takes nothing as written from a write whose transaction rolled back', async () => {
    const writer = newWriter();
    const t1 = fold(initialTranscript(RUN), delta('one'));
    await write(writer, t1, false);
    const t2 = fold(t1, delta(' two'), toolStarted('terminal', 'call_a'));
    const plan = (await writer.plan(t2, false))!;
    await expect(
      db.commit.write(async (tx) => {
        await writer.apply(tx, plan, 1);
        throw new Error('database is locked');
      }),
    ).rejects.toThrow('database is locked');
    expect(writer.storedIds).toHaveLength(1);

    // The same transcript again: the update and the insert are planned again, and land once.
    await write(writer, t2, false);
    expect((await stored()).map((message) => [message.role, message.content])).toEqual([
      ['assistant', 'one two'],
      ['tool', ''],
    ]);
    expect(writer.storedIds).toEqual((await stored()).map((message) => message.id));
  });

  it('after adopt (a restart), updates the stored messages instead of inserting them again', async () => {
    const first = newWriter();
    await appendMessages(transcripts, db.commit, sessionId, [
      { role: 'user', content: 'question', runId: RUN },
    ]);
    const t1 = fold(
      initialTranscript(RUN),
      delta('Checking'),
      toolStarted('terminal', 'call_a'),
      toolCompleted('terminal', 'call_a', 'ok'),
      delta('Almost'),
    );
    await write(first, t1, false);
    const beforeRestart = await stored();
    expect(beforeRestart.map((message) => message.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'assistant',
    ]);

    // A new process: the run's stored messages (without its user message) become the transcript.
    const drafts = beforeRestart.slice(1);
    const recovered = transcriptFromStored(RUN, drafts);
    const second = newWriter();
    second.adopt(drafts, recovered.messages);
    expect(second.storedIds).toEqual(drafts.map((message) => message.id));
    expect(await second.plan(recovered, false)).toBeNull();

    const finished = fold(recovered, delta(' done'), completed());
    const final = await write(second, finished, true);
    expect(final?.inserts).toEqual([]);
    expect(final?.updates.map((update) => update.id)).toEqual(drafts.map((message) => message.id));
    expect((await stored()).map((message) => [message.id, message.content])).toEqual([
      [beforeRestart[0].id, 'question'],
      [beforeRestart[1].id, 'Checking'],
      [beforeRestart[2].id, 'ok'],
      [beforeRestart[3].id, 'Almost done'],
    ]);
  });
});
