import { HermesRunEvent, parseHermesEvent } from '../../hermes/hermes-events';
import type { RunCompletedPayload } from '../../hermes/hermes-events';
import { pythonContentArray } from '../../../test/fake-hermes/text-formats';
import {
  changedMessageIndices,
  completionAnnotations,
  DraftMessage,
  foldEvent,
  foldEvents,
  initialTranscript,
  RunTranscript,
  TOOL_FAILED_MARKER,
  toNewMessages,
} from './transcript.reducer';

const RUN = 'run_1';

/** Builds an event the way the stream does: through the edge parser. */
function ev(fields: Record<string, unknown>): HermesRunEvent {
  const event = parseHermesEvent(JSON.stringify({ run_id: RUN, timestamp: 1, ...fields }));
  if (event === null) throw new Error(`not an event: ${JSON.stringify(fields)}`);
  return event;
}

const delta = (text: string) => ev({ event: 'message.delta', delta: text });
const reasoning = (text: string) => ev({ event: 'reasoning.delta', text });
const started = (tool: string, extra: Record<string, unknown> = {}) =>
  ev({ event: 'tool.started', tool, ...extra });
const finished = (tool: string, extra: Record<string, unknown> = {}) =>
  ev({ event: 'tool.completed', tool, duration: 0.1, error: false, ...extra });
const completed = (extra: Record<string, unknown> = {}) => ev({ event: 'run.completed', ...extra });
const failed = ev({ event: 'run.failed', error: 'boom' });
const cancelled = ev({ event: 'run.cancelled' });

const fold = (events: HermesRunEvent[]): RunTranscript => foldEvents(RUN, events);

/** Only the fields a test cares about, so expectations stay readable. */
function brief(message: DraftMessage): Partial<DraftMessage> {
  const out: Partial<Record<keyof DraftMessage, unknown>> = {
    role: message.role,
    content: message.content,
  };
  if (message.reasoning !== null) out.reasoning = message.reasoning;
  if (message.toolCalls !== null) out.toolCalls = message.toolCalls.map((call) => call.id);
  if (message.toolCallId !== null) out.toolCallId = message.toolCallId;
  if (message.finishReason !== null) out.finishReason = message.finishReason;
  out.open = message.open;
  return out as Partial<DraftMessage>;
}

/**
 * The pairing invariant: walking back from a tool message over tool messages, the first other
 * message is an assistant message whose toolCalls contain the tool message's id. Returns the
 * first violation, or null.
 */
function pairingViolation(messages: readonly DraftMessage[]): string | null {
  for (let i = 0; i < messages.length; i++) {
    if (messages[i].role !== 'tool') continue;
    let j = i - 1;
    while (j >= 0 && messages[j].role === 'tool') j--;
    const owner = j >= 0 ? messages[j] : undefined;
    if (owner?.role !== 'assistant') return `tool message ${i} has no assistant message before it`;
    if (!owner.toolCalls?.some((call) => call.id === messages[i].toolCallId)) {
      return `tool message ${i} (${messages[i].toolCallId}) is not among the calls of message ${j}`;
    }
  }
  return null;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

describe('foldEvent: text and reasoning', () => {
  it('appends plain deltas to one open assistant message, closed with stop on completion', () => {
    const running = fold([delta('Hel'), delta('lo '), delta(''), delta('world')]);
    expect(running.messages.map(brief)).toEqual([
      { role: 'assistant', content: 'Hello world', open: true },
    ]);
    const done = foldEvent(running, completed({ output: 'Hello world' }));
    expect(done.status).toBe('completed');
    expect(done.messages.map(brief)).toEqual([
      { role: 'assistant', content: 'Hello world', finishReason: 'stop', open: false },
    ]);
  });

  it('collects reasoning (text or delta field) before the text of the same message', () => {
    const state = fold([
      reasoning('Let me '),
      ev({ event: 'thinking.delta', delta: 'think.' }),
      ev({ event: 'reasoning.available', text: 'a whole other block' }),
      delta('Answer'),
    ]);
    expect(state.messages.map(brief)).toEqual([
      { role: 'assistant', content: 'Answer', reasoning: 'Let me think.', open: true },
    ]);
  });

  it('takes reasoning.available as the whole reasoning only when there is none', () => {
    const first = fold([delta('Hi')]);
    const withBlock = foldEvent(first, ev({ event: 'reasoning.available', text: 'block' }));
    expect(withBlock.messages[0].reasoning).toBe('block');
    expect(foldEvent(withBlock, ev({ event: 'reasoning.available', text: 'again' }))).toBe(
      withBlock,
    );
    expect(fold([ev({ event: 'reasoning.available', text: 'alone' })]).messages.map(brief)).toEqual(
      [{ role: 'assistant', content: '', reasoning: 'alone', open: true }],
    );
  });

  it('folds a Python-literal delta into text', () => {
    const state = fold([delta('Hello '), delta(pythonContentArray('world'))]);
    expect(state.messages.map(brief)).toEqual([
      { role: 'assistant', content: 'Hello world', open: true },
    ]);
  });

  it('takes thinking and tool_use blocks of an array delta too', () => {
    const state = fold([
      delta(
        JSON.stringify([
          { type: 'thinking', thinking: 'hmm' },
          { type: 'text', text: 'Sure.' },
          { type: 'tool_use', id: 'tu_1', name: 'calc', input: { x: 1 } },
        ]),
      ),
    ]);
    expect(state.messages).toEqual([
      expect.objectContaining({
        content: 'Sure.',
        reasoning: 'hmm',
        toolCalls: [
          { id: 'tu_1', type: 'function', function: { name: 'calc', arguments: '{"x":1}' } },
        ],
      }),
    ]);
  });

  it('returns the same state for events that change nothing', () => {
    const state = fold([delta('Hi')]);
    for (const event of [
      ev({ event: 'status.message', message: 'working' }),
      ev({ event: 'approval.request', command: 'rm -rf /' }),
      delta(''),
      reasoning(''),
      delta(JSON.stringify([{ type: 'text', text: '' }])),
      finished('nothing_open'),
    ]) {
      expect(foldEvent(state, event)).toBe(state);
    }
  });
});

describe('foldEvent: tools', () => {
  it('pairs a tool call with an upstream id with its result, then starts a new assistant message', () => {
    const state = fold([
      delta('Let me look.'),
      started('search', { preview: 'cats', tool_call_id: 'tc_1' }),
      finished('search', { tool_call_id: 'tc_1', output: 'found 3' }),
      delta('There are 3.'),
      completed(),
    ]);
    expect(state.messages.map(brief)).toEqual([
      {
        role: 'assistant',
        content: 'Let me look.',
        toolCalls: ['tc_1'],
        finishReason: 'tool_calls',
        open: false,
      },
      { role: 'tool', content: 'found 3', toolCallId: 'tc_1', open: false },
      { role: 'assistant', content: 'There are 3.', finishReason: 'stop', open: false },
    ]);
    expect(state.messages[0].toolCalls).toEqual([
      {
        id: 'tc_1',
        type: 'function',
        function: { name: 'search', arguments: '{"preview":"cats"}' },
      },
    ]);
    expect(state.messages[1].toolName).toBe('search');
  });

  it('orders two tools in a row as assistant(call1, call2), tool1, tool2, with stable generated ids', () => {
    const state = fold([
      started('read'),
      started('write', { preview: 'x' }),
      finished('write', { output: 'written' }),
      finished('read', { output: 'read it' }),
    ]);
    expect(state.messages.map(brief)).toEqual([
      {
        role: 'assistant',
        content: '',
        toolCalls: ['call_run_1_1', 'call_run_1_2'],
        finishReason: 'tool_calls',
        open: false,
      },
      { role: 'tool', content: 'read it', toolCallId: 'call_run_1_1', open: false },
      { role: 'tool', content: 'written', toolCallId: 'call_run_1_2', open: false },
    ]);
    expect(state.messages[0].toolCalls?.[0].function.arguments).toBe('{}');
    expect(state.toolSeq).toBe(2);
  });

  it('attaches a tool started after a finished one (no text between) to the same assistant message', () => {
    const state = fold([delta('Working'), started('a'), finished('a'), started('b')]);
    expect(state.messages.map((m) => m.role)).toEqual(['assistant', 'tool', 'tool']);
    expect(state.messages[0].toolCalls?.map((c) => c.id)).toEqual(['call_run_1_1', 'call_run_1_2']);
    expect(pairingViolation(state.messages)).toBeNull();
  });

  it('starts a new assistant message for text while a tool is still running', () => {
    const state = fold([
      started('slow'),
      delta('meanwhile'),
      started('fast'),
      finished('slow', { output: 'done' }),
    ]);
    expect(state.messages.map(brief)).toEqual([
      {
        role: 'assistant',
        content: '',
        toolCalls: ['call_run_1_1'],
        finishReason: 'tool_calls',
        open: false,
      },
      { role: 'tool', content: 'done', toolCallId: 'call_run_1_1', open: false },
      {
        role: 'assistant',
        content: 'meanwhile',
        toolCalls: ['call_run_1_2'],
        finishReason: 'tool_calls',
        open: false,
      },
      { role: 'tool', content: '', toolCallId: 'call_run_1_2', open: true },
    ]);
  });

  it('matches completions by id, then oldest open of that name, then oldest open', () => {
    const base = fold([
      started('a', { tool_call_id: 'A' }),
      started('b'),
      started('b'),
      started('c'),
    ]);
    const byId = foldEvent(base, finished('zzz', { tool_call_id: 'A', output: 'A!' }));
    expect(byId.messages[1].content).toBe('A!');
    const byName = foldEvent(base, finished('b', { output: 'b!' }));
    expect(byName.messages.map((m) => m.content)).toEqual(['', '', 'b!', '', '']);
    const unknownId = foldEvent(
      base,
      finished('c', { tool_call_id: 'never-started', output: 'c!' }),
    );
    expect(unknownId.messages[4].content).toBe('c!');
    const otherName = foldEvent(base, finished('renamed', { output: 'first' }));
    expect(otherName.messages[1].content).toBe('first');
  });

  it('ignores unmatched and duplicate completions', () => {
    expect(foldEvent(initialTranscript(RUN), finished('x', { output: 'y' }))).toEqual(
      initialTranscript(RUN),
    );
    const once = fold([
      started('a', { tool_call_id: 'A' }),
      started('b'),
      finished('a', { tool_call_id: 'A', output: 'first' }),
    ]);
    const twice = foldEvent(once, finished('a', { tool_call_id: 'A', output: 'second' }));
    expect(twice).toBe(once);
    const allDone = foldEvent(once, finished('b'));
    expect(foldEvent(allDone, finished('b', { output: 'late' }))).toBe(allDone);
  });

  it('records failures without output as a marker', () => {
    const state = fold([
      started('a'),
      started('b'),
      started('c'),
      started('d'),
      finished('a', { error: true }),
      finished('b', { error: 'permission denied' }),
      finished('c', { error: true, output: 'stderr: nope' }),
      finished('d'),
    ]);
    expect(state.messages.slice(1).map((m) => m.content)).toEqual([
      TOOL_FAILED_MARKER,
      '[tool failed: permission denied]',
      'stderr: nope',
      '',
    ]);
  });

  it('accepts the legacy `name` field for the tool (via the edge parser)', () => {
    const state = fold([ev({ event: 'tool.started', name: 'legacy' })]);
    expect(state.messages[1].toolName).toBe('legacy');
  });

  it('does not add a call twice when an array delta already declared its id', () => {
    const state = fold([
      delta(JSON.stringify([{ type: 'tool_use', id: 'tu_1', name: 'calc', input: {} }])),
      started('calc', { tool_call_id: 'tu_1' }),
    ]);
    expect(state.messages[0].toolCalls?.map((c) => c.id)).toEqual(['tu_1']);
    expect(pairingViolation(state.messages)).toBeNull();
  });
});

describe('foldEvent: terminal events', () => {
  it('uses a stringified output as the reply when nothing was streamed', () => {
    const output = JSON.stringify([
      { type: 'thinking', thinking: 'plan' },
      { type: 'text', text: 'Final answer' },
    ]);
    const state = fold([completed({ output })]);
    expect(state.messages.map(brief)).toEqual([
      {
        role: 'assistant',
        content: 'Final answer',
        reasoning: 'plan',
        finishReason: 'stop',
        open: false,
      },
    ]);
    const payload = completed({ output }).payload as RunCompletedPayload;
    expect(completionAnnotations(state, payload)).toEqual({ parsed_content: 'Final answer' });
  });

  it('uses a double-serialised output too', () => {
    const output = JSON.stringify(JSON.stringify([{ type: 'text', text: 'twice' }]));
    expect(fold([completed({ output })]).messages[0].content).toBe('twice');
  });

  it('puts the output into a reasoning-only message, or after trailing tools', () => {
    expect(fold([reasoning('r'), completed({ output: 'text' })]).messages.map(brief)).toEqual([
      { role: 'assistant', content: 'text', reasoning: 'r', finishReason: 'stop', open: false },
    ]);
    const afterTools = fold([
      started('t'),
      finished('t', { output: 'o' }),
      completed({ output: 'done' }),
    ]);
    expect(afterTools.messages.map(brief)).toEqual([
      {
        role: 'assistant',
        content: '',
        toolCalls: ['call_run_1_1'],
        finishReason: 'tool_calls',
        open: false,
      },
      { role: 'tool', content: 'o', toolCallId: 'call_run_1_1', open: false },
      { role: 'assistant', content: 'done', finishReason: 'stop', open: false },
    ]);
  });

  it('keeps streamed text over the output, and adds nothing for an empty output', () => {
    expect(
      fold([delta('streamed'), completed({ output: 'different' })]).messages.map((m) => m.content),
    ).toEqual(['streamed']);
    expect(fold([completed({ output: '' })]).messages).toEqual([]);
    expect(fold([completed()]).messages).toEqual([]);
  });

  it('keeps tool_calls on a run that ends right after its tools, and closes open tools', () => {
    const state = fold([delta('x'), started('t'), completed()]);
    expect(state.messages.map(brief)).toEqual([
      {
        role: 'assistant',
        content: 'x',
        toolCalls: ['call_run_1_1'],
        finishReason: 'tool_calls',
        open: false,
      },
      { role: 'tool', content: '', toolCallId: 'call_run_1_1', open: false },
    ]);
  });

  it('normalises an array streamed in pieces and annotates run.completed with it', () => {
    const events = [
      delta("[{'type': 'thinking', 'thinking': 'why'}, "),
      delta(
        "{'type': 'text', 'text': 'hi'}, {'type': 'tool_use', 'id': 'tu', 'name': 'n', 'input': {}}]",
      ),
    ];
    const running = fold(events);
    expect(running.messages[0].content.startsWith('[{')).toBe(true);
    const payload = completed({ output: 'hi' }).payload as RunCompletedPayload;
    const state = fold([...events, completed({ output: 'hi' })]);
    expect(state.normalisedAtEnd).toBe(true);
    expect(state.messages.map(brief)).toEqual([
      {
        role: 'assistant',
        content: 'hi',
        reasoning: 'why',
        toolCalls: ['tu'],
        finishReason: 'stop',
        open: false,
      },
    ]);
    expect(completionAnnotations(state, payload)).toEqual({
      parsed_content: 'hi',
      parsed_tool_calls: [{ id: 'tu', type: 'function', function: { name: 'n', arguments: '{}' } }],
      parsed_reasoning: 'why',
    });
  });

  it('adds no annotations for plain text', () => {
    const state = fold([delta('plain'), completed({ output: 'plain' })]);
    expect(
      completionAnnotations(state, completed({ output: 'plain' }).payload as RunCompletedPayload),
    ).toEqual({});
  });

  it('keeps partial text when the run fails or is cancelled', () => {
    const partial = [reasoning('thinking'), delta('Half an ans'), started('t')];
    const onFailure = fold([...partial, failed]);
    expect(onFailure.status).toBe('failed');
    expect(onFailure.messages.map(brief)).toEqual([
      {
        role: 'assistant',
        content: 'Half an ans',
        reasoning: 'thinking',
        toolCalls: ['call_run_1_1'],
        finishReason: 'tool_calls',
        open: false,
      },
      { role: 'tool', content: '', toolCallId: 'call_run_1_1', finishReason: 'error', open: false },
    ]);
    const onCancel = fold([delta('Half'), cancelled]);
    expect(onCancel.status).toBe('cancelled');
    expect(onCancel.messages.map(brief)).toEqual([
      { role: 'assistant', content: 'Half', finishReason: 'cancelled', open: false },
    ]);
  });

  it('ignores everything after the terminal event', () => {
    const done = fold([delta('x'), cancelled]);
    for (const event of [delta('late'), started('t'), completed({ output: 'o' }), failed]) {
      expect(foldEvent(done, event)).toBe(done);
    }
  });
});

describe('structural sharing and determinism', () => {
  it('replaces only the changed message and keeps the others by identity', () => {
    const before = fold([delta('a'), started('t1'), started('t2'), delta('b')]);
    const after = foldEvent(before, finished('t2', { output: 'r2' }));
    expect(after.messages).not.toBe(before.messages);
    expect(changedMessageIndices(before, after)).toEqual([2]);
    after.messages.forEach((message, i) => {
      if (i !== 2) expect(message).toBe(before.messages[i]);
    });
    const appended = foldEvent(after, delta('c'));
    expect(changedMessageIndices(after, appended)).toEqual([3]);
    const newTool = foldEvent(appended, started('t3'));
    expect(changedMessageIndices(appended, newTool)).toEqual([3, 4]);
    // The terminal event replaces exactly the still-open messages: tools t1 and t3.
    const terminal = foldEvent(newTool, completed());
    expect(changedMessageIndices(newTool, terminal)).toEqual([1, 4]);
    expect(terminal.messages[0]).toBe(newTool.messages[0]);
  });

  it('gives the same transcript, ids included, when the same events are folded again', () => {
    const events = [
      delta('x'),
      started('a'),
      started('b', { tool_call_id: 'up_1' }),
      started('c'),
      completed(),
    ];
    const first = fold(events);
    const second = fold(events);
    expect(second).toEqual(first);
    expect(first.messages[0].toolCalls?.map((c) => c.id)).toEqual([
      'call_run_1_1',
      'up_1',
      'call_run_1_3',
    ]);
    expect(foldEvents('run_2', events).messages[0].toolCalls?.[0].id).toBe('call_run_2_1');
  });

  it('maps drafts to storable messages one for one', () => {
    const state = fold([
      delta('a'),
      started('t', { tool_call_id: 'T' }),
      finished('t', { output: 'o' }),
      completed(),
    ]);
    const stored = toNewMessages(state, 'local_run');
    expect(stored).toEqual([
      {
        role: 'assistant',
        content: 'a',
        reasoning: null,
        toolCalls: [{ id: 'T', type: 'function', function: { name: 't', arguments: '{}' } }],
        toolCallId: null,
        toolName: null,
        finishReason: 'tool_calls',
        runId: 'local_run',
      },
      {
        role: 'tool',
        content: 'o',
        reasoning: null,
        toolCalls: null,
        toolCallId: 'T',
        toolName: 't',
        finishReason: null,
        runId: 'local_run',
      },
    ]);
    expect(stored[0].toolCalls).not.toBe(state.messages[0].toolCalls);
  });
});

describe('pairing invariant over generated event sequences', () => {
  it('the checker itself detects violations', () => {
    const tool = (id: string): DraftMessage => ({
      role: 'tool',
      content: '',
      reasoning: null,
      toolCalls: null,
      toolCallId: id,
      toolName: 't',
      finishReason: null,
      open: false,
    });
    const assistant = (...ids: string[]): DraftMessage => ({
      ...tool(''),
      role: 'assistant',
      toolCallId: null,
      toolName: null,
      toolCalls: ids.map((id) => ({
        id,
        type: 'function',
        function: { name: 't', arguments: '{}' },
      })),
    });
    expect(pairingViolation([tool('a')])).not.toBeNull();
    expect(pairingViolation([assistant('a'), tool('b')])).not.toBeNull();
    expect(pairingViolation([assistant('a'), tool('a'), assistant(), tool('a')])).not.toBeNull();
    expect(pairingViolation([assistant('a', 'b'), tool('a'), tool('b')])).toBeNull();
  });

  /** mulberry32: a tiny seeded PRNG, so a failure is reproducible from its seed. */
  function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function randomEvent(random: () => number, startedIds: string[]): HermesRunEvent {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const tool = pick(['read', 'write', 'search']);
    switch (Math.floor(random() * 10)) {
      case 0:
        return delta(
          pick(['word ', '', '[1] note', JSON.stringify([{ type: 'text', text: 'j' }])]),
        );
      case 1:
        return delta(pythonContentArray('py'));
      case 2:
        return reasoning(pick(['r', '']));
      case 3:
        return ev({ event: 'reasoning.available', text: 'block' });
      case 4:
      case 5: {
        const id = random() < 0.5 ? `up_${startedIds.length}` : undefined;
        startedIds.push(id ?? tool);
        return started(tool, id === undefined ? {} : { tool_call_id: id });
      }
      case 6:
      case 7: {
        const id = random() < 0.4 && startedIds.length > 0 ? pick(startedIds) : undefined;
        return finished(tool, {
          ...(id?.startsWith('up_') ? { tool_call_id: id } : {}),
          output: 'out',
        });
      }
      case 8:
        return delta(
          JSON.stringify([
            { type: 'tool_use', id: `blk_${startedIds.length}`, name: tool, input: {} },
          ]),
        );
      default:
        return ev({ event: 'status.message', message: 's' });
    }
  }

  it('holds after every event, folds purely and deterministically', () => {
    const terminals = [completed({ output: 'o' }), completed(), failed, cancelled];
    for (let seed = 1; seed <= 400; seed++) {
      const random = prng(seed);
      const startedIds: string[] = [];
      const length = 1 + Math.floor(random() * 30);
      const events = Array.from({ length }, () => randomEvent(random, startedIds));
      if (random() < 0.8) events.push(terminals[Math.floor(random() * terminals.length)]);

      let state = deepFreeze(initialTranscript(RUN));
      let toolStarts = 0;
      for (const event of events) {
        const next = foldEvent(state, event); // frozen input: any mutation would throw
        if (event.type === 'tool.started' && state.status === 'running') toolStarts++;
        const violation = pairingViolation(next.messages);
        if (violation !== null) throw new Error(`seed ${seed}: ${violation}`);
        // Messages are only appended; before the terminal event, one existing message at most
        // is replaced per event (the others keep their identity).
        expect(next.messages.length).toBeGreaterThanOrEqual(state.messages.length);
        if (next.status === 'running') {
          const replaced = changedMessageIndices(state, next).filter(
            (i) => i < state.messages.length,
          );
          expect(replaced.length).toBeLessThanOrEqual(1);
        }
        state = deepFreeze(next);
      }
      expect(state.messages.filter((m) => m.role === 'tool')).toHaveLength(toolStarts);
      expect(state.toolSeq).toBe(toolStarts);
      if (state.status !== 'running') expect(state.messages.every((m) => !m.open)).toBe(true);
      expect(fold(events)).toEqual(state);
    }
  });
});
