import fc from 'fast-check';
import type { HistoryMessage, ToolCall } from '../sessions/session.types';
import { toConversationHistory, type HistoryTurn } from './conversation-history';
import { HistoryEncoder } from './encoded-history';

let nextId = 1;
function message(fields: Partial<HistoryMessage> & Pick<HistoryMessage, 'role'>): HistoryMessage {
  return {
    id: nextId++,
    content: '',
    toolCalls: null,
    toolCallId: null,
    toolName: null,
    tokenCount: 0,
    ...fields,
  };
}

const call = (id: string): ToolCall => ({
  id,
  type: 'function',
  function: { name: 'read', arguments: `{"id":"${id}"}` },
});

const SUMMARY: HistoryTurn = { role: 'user', content: '[Summary] earlier "turns"' };

/** What the encoder must give: the whole history rendered at once. */
const expected = (messages: readonly HistoryMessage[], lead?: HistoryTurn): HistoryTurn[] => [
  ...(lead ? [lead] : []),
  ...toConversationHistory(messages),
];

/**
 * Messages as stored, including what pairing must repair: tool results before their caller,
 * results nobody declares, ids declared twice, calls only inside content block arrays.
 */
const messageArb = fc.oneof(
  fc.string({ maxLength: 12 }).map((content) => message({ role: 'user', content })),
  fc
    .record({
      text: fc.string({ maxLength: 12 }),
      ids: fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 2 }),
      inBlocks: fc.boolean(),
    })
    .map(({ text, ids, inBlocks }) =>
      inBlocks && ids.length > 0
        ? message({
            role: 'assistant',
            content: JSON.stringify([
              { type: 'text', text },
              ...ids.map((id) => ({ type: 'tool_use', id, name: 'read', input: { id } })),
            ]),
          })
        : message({ role: 'assistant', content: text, toolCalls: ids.map(call) }),
    ),
  fc
    .record({
      id: fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'z')),
      out: fc.string({ maxLength: 8 }),
    })
    .map(({ id, out }) =>
      message({ role: 'tool', toolCallId: id, toolName: 'read', content: out }),
    ),
);

describe('HistoryEncoder', () => {
  it('encodes exactly the whole history at every step of a growing session', () => {
    fc.assert(
      fc.property(
        fc.array(messageArb, { maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        (messages, steps, withSummary) => {
          const encoder = new HistoryEncoder();
          const lead = withSummary ? SUMMARY : undefined;
          let shown = 0;
          for (const step of [...steps, messages.length]) {
            shown = Math.min(messages.length, shown + step);
            // A new array each time, the same message objects: as a session's window hands out.
            const list = messages.slice(0, shown);
            const history = encoder.encode(list, lead);
            expect(history.turns()).toEqual(expected(list, lead));
            expect(history.length).toBe(expected(list, lead).length);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('keeps an earlier result intact while later runs extend the encoding', () => {
    const encoder = new HistoryEncoder();
    const messages = [message({ role: 'user', content: 'one' })];
    const first = encoder.encode(messages);
    for (let i = 0; i < 2_000; i++) messages.push(message({ role: 'user', content: `more ${i}` }));
    const second = encoder.encode(messages);
    expect(first.turns()).toEqual([{ role: 'user', content: 'one' }]);
    expect(second.length).toBe(2_001);
  });

  it('starts over for a list that does not extend the last one', () => {
    const encoder = new HistoryEncoder();
    encoder.encode([message({ role: 'user', content: 'old session' })]);
    const other = [message({ role: 'user', content: 'recreated' })];
    expect(encoder.encode(other).turns()).toEqual([{ role: 'user', content: 'recreated' }]);
    expect(encoder.encode([]).turns()).toEqual([]);
  });

  it('moves an older tool result after a newer assistant message that declares its call', () => {
    const encoder = new HistoryEncoder();
    const early = message({ role: 'tool', toolCallId: 'x', toolName: 'read', content: 'R' });
    const messages = [message({ role: 'user', content: 'q' }), early];
    expect(encoder.encode(messages).turns()).toEqual(expected(messages));
    messages.push(message({ role: 'assistant', content: 'calls', toolCalls: [call('x')] }));
    const history = encoder.encode(messages).turns();
    expect(history).toEqual(expected(messages));
    expect(history.at(-1)).toEqual({ role: 'user', content: '[Tool result (read): R]' });
  });

  it('extends the encoding of a long session to the bytes of encoding it whole', () => {
    const encoder = new HistoryEncoder();
    const messages: HistoryMessage[] = [];
    for (let i = 0; i < 10_000; i++)
      messages.push(message({ role: 'user', content: 'x'.repeat(200) }));
    encoder.encode(messages);
    messages.push(message({ role: 'assistant', content: 'reply' }));
    const history = encoder.encode(messages);
    expect(history.length).toBe(10_001);
    expect(Buffer.concat(history.pieces).toString()).toBe(JSON.stringify(expected(messages)));
  });
});
