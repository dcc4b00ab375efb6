import { migratedMemoryDb } from '../../database/testing/migrated-memory-db';
import { DataSource } from 'typeorm';
import { TokenCounter } from '../../tokens/token-counter';
import type { HermesRunEvent } from '../../hermes/hermes-events';
import type { Message } from '../../sessions/session.types';
import { TypeOrmSessionRepository } from '../../sessions/typeorm-session.repository';
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

describe('TranscriptWriter (real repository on SQLite in memory)', () => {
  const tokens = new TokenCounter();
  let dataSource: DataSource;
  let repository: TypeOrmSessionRepository;
  let sessionCounter = 0;
  let sessionId: string;

  const stored = async (): Promise<Message[]> =>
    (await repository.messagesAfter(sessionId, 0)).filter((message) => message.runId === RUN);

  /** The ids each `updateMessages` call touched, call by call. */
  const updatedIds = (spy: jest.SpyInstance): number[][] =>
    spy.mock.calls.map(([, updates]: Parameters<TypeOrmSessionRepository['updateMessages']>) =>
      updates.map((update) => update.id),
    );

  beforeAll(async () => {
    dataSource = await migratedMemoryDb();
    repository = new TypeOrmSessionRepository(dataSource, tokens);
  });

  beforeEach(async () => {
    sessionId = `s${++sessionCounter}`;
    await repository.create({ id: sessionId });
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(async () => {
    tokens.onModuleDestroy();
    await dataSource?.destroy();
  });

  it('inserts new drafts, updates only the drafts that changed, and skips an unchanged write', async () => {
    const writer = new TranscriptWriter(repository, sessionId, RUN);
    const update = jest.spyOn(repository, 'updateMessages');
    const append = jest.spyOn(repository, 'appendMessages');

    const t1 = fold(initialTranscript(RUN), delta('Let me look'));
    await writer.write(t1, false);
    expect(update).not.toHaveBeenCalled();
    expect(append).toHaveBeenCalledTimes(1);
    const [assistant] = await stored();
    expect(assistant).toMatchObject({ role: 'assistant', content: 'Let me look', runId: RUN });
    expect(writer.storedIds).toEqual([assistant.id]);

    // The tool call changes the assistant draft and adds a tool draft.
    const t2 = fold(t1, toolStarted('terminal', 'call_a'));
    await writer.write(t2, false);
    expect(updatedIds(update)).toEqual([[assistant.id]]);
    expect(append).toHaveBeenCalledTimes(2);
    const [, tool] = await stored();
    expect(tool).toMatchObject({ role: 'tool', toolCallId: 'call_a', content: '' });

    // Only the tool draft changes; the assistant draft keeps its identity and is not rewritten.
    const t3 = fold(t2, toolCompleted('terminal', 'call_a', 'file.txt'));
    expect(t3.messages[0]).toBe(t2.messages[0]);
    await writer.write(t3, false);
    expect(updatedIds(update)).toEqual([[assistant.id], [tool.id]]);

    // Nothing changed: nothing is written at all.
    await writer.write(t3, false);
    expect(update).toHaveBeenCalledTimes(2);
    expect(append).toHaveBeenCalledTimes(2);

    expect((await stored()).map((message) => [message.role, message.content])).toEqual([
      ['assistant', 'Let me look'],
      ['tool', 'file.txt'],
    ]);
    expect(
      (await repository.messagesAfter(sessionId, 0)).map((message) => message.toolCalls),
    ).toEqual([
      [{ id: 'call_a', type: 'function', function: { name: 'terminal', arguments: '{}' } }],
      null,
    ]);
  });

  it('rewrites every draft on the final write, with fresh token counts', async () => {
    const writer = new TranscriptWriter(repository, sessionId, RUN);
    const t1 = fold(initialTranscript(RUN), delta('Hel'), toolStarted('terminal', 'call_a'));
    await writer.write(t1, false);
    const before = await stored();
    // Drafts still streaming are not tokenised: the final write counts them once.
    expect(before.map((message) => message.tokenCount)).toEqual([0, 0]);

    const update = jest.spyOn(repository, 'updateMessages');
    const t2 = fold(
      t1,
      toolCompleted('terminal', 'call_a', 'a much longer tool output than before'),
      delta('The answer is forty-two.'),
      completed(),
    );
    // The assistant draft that called the tool is unchanged, yet the final write includes it.
    expect(t2.messages[0]).toBe(t1.messages[0]);
    await writer.write(t2, true);

    expect(update).toHaveBeenCalledTimes(1);
    expect(update.mock.calls[0][2]).toBe(true);
    expect(updatedIds(update)).toEqual([before.map((message) => message.id)]);
    const after = await stored();
    expect(after.map((message) => [message.role, message.content, message.finishReason])).toEqual([
      ['assistant', 'Hel', 'tool_calls'],
      ['tool', 'a much longer tool output than before', null],
      ['assistant', 'The answer is forty-two.', 'stop'],
    ]);
    expect(after[0].tokenCount).toBe(
      await tokens.count('Hel' + '\n' + JSON.stringify(t1.messages[0].toolCalls)),
    );
    // The tool message was inserted empty (0 tokens); the final write counted its output.
    expect(before[1].tokenCount).toBe(0);
    expect(after[1].tokenCount).toBe(await tokens.count('a much longer tool output than before'));
    expect(after[2].tokenCount).toBe(await tokens.count('The answer is forty-two.'));
  });

  it('keeps a stale token count on non-final updates (counted once, at the end)', async () => {
    const writer = new TranscriptWriter(repository, sessionId, RUN);
    const t1 = fold(initialTranscript(RUN), delta('Hi'));
    await writer.write(t1, false);
    const [first] = await stored();
    await writer.write(fold(t1, delta(' there, a longer text now')), false);
    const [second] = await stored();
    expect(second.content).toBe('Hi there, a longer text now');
    expect(second.tokenCount).toBe(first.tokenCount);
  });

  it('serialises writes fired without awaiting: no draft is inserted twice', async () => {
    const writer = new TranscriptWriter(repository, sessionId, RUN);
    const append = jest.spyOn(repository, 'appendMessages');
    const t1 = fold(initialTranscript(RUN), delta('one'));
    const t2 = fold(t1, delta(' two'), toolStarted('terminal', 'call_a'));
    const t3 = fold(t2, toolCompleted('terminal', 'call_a', 'out'), delta('three'));

    await Promise.all([writer.write(t1, false), writer.write(t2, false), writer.write(t3, false)]);

    expect(append.mock.calls.map(([, messages]) => messages.length)).toEqual([1, 1, 1]);
    expect((await stored()).map((message) => [message.role, message.content])).toEqual([
      ['assistant', 'one two'],
      ['tool', 'out'],
      ['assistant', 'three'],
    ]);
    expect(writer.storedIds).toEqual((await stored()).map((message) => message.id));
  });

  it('reports a failed write to its caller, and the next write still works', async () => {
    const writer = new TranscriptWriter(repository, sessionId, RUN);
    const t1 = fold(initialTranscript(RUN), delta('one'));
    jest.spyOn(repository, 'appendMessages').mockRejectedValueOnce(new Error('database is locked'));

    const failed = writer.write(t1, false);
    const next = writer.write(fold(t1, delta(' two')), false);

    await expect(failed).rejects.toThrow('database is locked');
    await expect(next).resolves.toBeUndefined();
    expect((await stored()).map((message) => message.content)).toEqual(['one two']);
    expect(writer.storedIds).toHaveLength(1);
  });

  it('rewrites the drafts of a failed update on the next write', async () => {
    const writer = new TranscriptWriter(repository, sessionId, RUN);
    const t1 = fold(initialTranscript(RUN), delta('one'));
    await writer.write(t1, false);
    const t2 = fold(t1, delta(' two'));
    jest.spyOn(repository, 'updateMessages').mockRejectedValueOnce(new Error('database is locked'));
    await expect(writer.write(t2, false)).rejects.toThrow('database is locked');

    // Same transcript again: the failed update is not taken as written.
    await writer.write(t2, false);
    expect((await stored()).map((message) => message.content)).toEqual(['one two']);
  });

  it('after adopt (a restart), updates the stored messages instead of inserting them again', async () => {
    const first = new TranscriptWriter(repository, sessionId, RUN);
    await repository.appendMessages(sessionId, [{ role: 'user', content: 'question', runId: RUN }]);
    const t1 = fold(
      initialTranscript(RUN),
      delta('Checking'),
      toolStarted('terminal', 'call_a'),
      toolCompleted('terminal', 'call_a', 'ok'),
      delta('Almost'),
    );
    await first.write(t1, false);
    const beforeRestart = await stored();
    expect(beforeRestart.map((message) => message.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'assistant',
    ]);

    // A new process: the run's stored messages (with its user message) become the transcript.
    const recovered = transcriptFromStored(RUN, beforeRestart);
    const second = new TranscriptWriter(repository, sessionId, RUN);
    second.adopt(beforeRestart, recovered.messages);
    expect(second.storedIds).toEqual(beforeRestart.slice(1).map((message) => message.id));

    const update = jest.spyOn(repository, 'updateMessages');
    const append = jest.spyOn(repository, 'appendMessages');
    await second.write(recovered, false);
    expect(update).not.toHaveBeenCalled();
    expect(append).not.toHaveBeenCalled();

    const finished = fold(recovered, delta(' done'), completed());
    await second.write(finished, true);
    expect(append).not.toHaveBeenCalled();
    expect(updatedIds(update)).toEqual([beforeRestart.slice(1).map((message) => message.id)]);
    expect((await stored()).map((message) => [message.id, message.content])).toEqual([
      [beforeRestart[0].id, 'question'],
      [beforeRestart[1].id, 'Checking'],
      [beforeRestart[2].id, 'ok'],
      [beforeRestart[3].id, 'Almost done'],
    ]);
  });
});
