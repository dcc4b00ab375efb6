import { parseHermesEvent, type HermesRunEvent } from '../hermes/hermes-events';
import type { Message, ToolCall } from '../sessions/session.types';
import { storedUserContent } from './content-blocks';
import { toConversationHistory } from './conversation-history';
import { foldEvents, toNewMessages } from '../chat-run/transcript/transcript.reducer';

let nextId = 1;
function msg(fields: Partial<Message> & Pick<Message, 'role'>): Message {
  return {
    id: nextId++,
    sessionId: 's1',
    content: '',
    reasoning: null,
    toolCalls: null,
    toolCallId: null,
    toolName: null,
    finishReason: null,
    runId: null,
    tokenCount: 0,
    timestamp: 0,
    ...fields,
  };
}

const call = (id: string, name: string, args = '{}'): ToolCall => ({
  id,
  type: 'function',
  function: { name, arguments: args },
});

describe('toConversationHistory', () => {
  it('renders a plain conversation in order', () => {
    expect(
      toConversationHistory([
        msg({ role: 'user', content: 'Hi' }),
        msg({ role: 'assistant', content: 'Hello!', reasoning: 'not sent' }),
        msg({ role: 'user', content: 'Bye' }),
      ]),
    ).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Bye' },
    ]);
  });

  it('renders tool calls on the assistant turn and results as user turns right after it', () => {
    expect(
      toConversationHistory([
        msg({ role: 'user', content: 'Find cats' }),
        msg({
          role: 'assistant',
          content: 'Searching.',
          toolCalls: [call('c1', 'search', '{"preview":"cats"}'), call('c2', 'count')],
        }),
        msg({ role: 'tool', toolCallId: 'c1', toolName: 'search', content: '3 cats' }),
        msg({ role: 'tool', toolCallId: 'c2', toolName: 'count', content: '' }),
        msg({ role: 'assistant', content: 'Three.' }),
      ]),
    ).toEqual([
      { role: 'user', content: 'Find cats' },
      {
        role: 'assistant',
        content: 'Searching.\n[Tool call: search({"preview":"cats"})]\n[Tool call: count({})]',
      },
      { role: 'user', content: '[Tool result (search): 3 cats]' },
      { role: 'user', content: '[Tool result (count): (no output)]' },
      { role: 'assistant', content: 'Three.' },
    ]);
  });

  it('renders an assistant turn with only tool calls as the calls', () => {
    expect(
      toConversationHistory([msg({ role: 'assistant', toolCalls: [call('c', 'ls')] })]),
    ).toEqual([{ role: 'assistant', content: '[Tool call: ls({})]' }]);
  });

  it('keeps orphan tool messages in place as user turns (defect 7)', () => {
    expect(
      toConversationHistory([
        msg({ role: 'user', content: 'q' }),
        msg({ role: 'tool', toolName: 'legacy', content: 'old result' }),
        msg({ role: 'tool', toolCallId: 'nobody', content: 'unnamed result' }),
        msg({ role: 'assistant', content: 'a' }),
      ]),
    ).toEqual([
      { role: 'user', content: 'q' },
      { role: 'user', content: '[Tool result (legacy): old result]' },
      { role: 'user', content: '[Tool result: unnamed result]' },
      { role: 'assistant', content: 'a' },
    ]);
  });

  it('moves a result stored before its calling assistant turn to just after it', () => {
    expect(
      toConversationHistory([
        msg({ role: 'user', content: 'q' }),
        msg({ role: 'tool', toolCallId: 'late', toolName: 't', content: 'early result' }),
        msg({ role: 'assistant', content: 'calling', toolCalls: [call('late', 't')] }),
        msg({ role: 'tool', toolCallId: 'late2', toolName: 't', content: 'in order' }),
        msg({ role: 'assistant', toolCalls: [call('late2', 't')] }),
      ]),
    ).toEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'calling\n[Tool call: t({})]' },
      { role: 'user', content: '[Tool result (t): early result]' },
      { role: 'assistant', content: '[Tool call: t({})]' },
      { role: 'user', content: '[Tool result (t): in order]' },
    ]);
  });

  it('flattens user content stored as a block array (defect 8)', () => {
    const content = storedUserContent([
      { type: 'text', text: 'What is this?' },
      { type: 'image', name: 'a.png', path: '/up/a.png', media_type: 'image/png' },
    ]);
    const [turn] = toConversationHistory([msg({ role: 'user', content })]);
    expect(turn).toEqual({ role: 'user', content: 'What is this?\n[Image: /up/a.png]' });
    expect(turn.content).not.toContain('{');
  });

  it('normalises stringified assistant arrays, double-serialised ones included (defect 9)', () => {
    const blocks = [
      { type: 'thinking', thinking: 'hidden' },
      { type: 'text', text: 'Visible' },
      { type: 'tool_use', id: 'tu', name: 'calc', input: { x: 1 } },
    ];
    expect(
      toConversationHistory([
        msg({ role: 'assistant', content: JSON.stringify(JSON.stringify(blocks)) }),
        msg({ role: 'tool', toolCallId: 'tu', toolName: 'calc', content: '2' }),
        msg({ role: 'assistant', content: "[{'type': 'text', 'text': 'py', 'cached': True}]" }),
      ]),
    ).toEqual([
      { role: 'assistant', content: 'Visible\n[Tool call: calc({"x":1})]' },
      { role: 'user', content: '[Tool result (calc): 2]' },
      { role: 'assistant', content: 'py' },
    ]);
  });

  it('skips empty assistant turns but keeps user text that merely looks like an array', () => {
    expect(
      toConversationHistory([
        msg({ role: 'user', content: '[1] see note' }),
        msg({ role: 'assistant', content: '' }),
        msg({ role: 'assistant', content: '  \n' }),
        msg({ role: 'assistant', content: JSON.stringify([{ type: 'text', text: '' }]) }),
        msg({ role: 'user', content: '[1, 2]' }),
      ]),
    ).toEqual([
      { role: 'user', content: '[1] see note' },
      { role: 'user', content: '[1, 2]' },
    ]);
  });

  it('places every tool result of a folded run after the assistant turn that called it', () => {
    const event = (fields: Record<string, unknown>): HermesRunEvent => {
      const parsed = parseHermesEvent(JSON.stringify({ run_id: 'r', timestamp: 1, ...fields }));
      if (parsed === null) throw new Error('bad event');
      return parsed;
    };
    const transcript = foldEvents('r', [
      event({ event: 'message.delta', delta: 'Let me check.' }),
      event({ event: 'tool.started', tool: 'read', preview: 'a.txt' }),
      event({ event: 'tool.started', tool: 'read', preview: 'b.txt' }),
      event({ event: 'tool.completed', tool: 'read', output: 'A' }),
      event({ event: 'tool.completed', tool: 'read', output: 'B' }),
      event({ event: 'message.delta', delta: 'Both read.' }),
      event({ event: 'run.completed', output: 'Both read.' }),
    ]);
    const stored = [
      msg({ role: 'user', content: 'read both' }),
      ...toNewMessages(transcript, 'r').map((m) => msg({ ...m, role: m.role })),
    ];
    expect(toConversationHistory(stored)).toEqual([
      { role: 'user', content: 'read both' },
      {
        role: 'assistant',
        content:
          'Let me check.\n[Tool call: read({"preview":"a.txt"})]\n[Tool call: read({"preview":"b.txt"})]',
      },
      { role: 'user', content: '[Tool result (read): A]' },
      { role: 'user', content: '[Tool result (read): B]' },
      { role: 'assistant', content: 'Both read.' },
    ]);
  });

  it('handles a long history in one pass', () => {
    const messages: Message[] = [];
    for (let i = 0; i < 20_000; i++) {
      messages.push(msg({ role: 'user', content: `q${i}` }));
      messages.push(msg({ role: 'assistant', toolCalls: [call(`c${i}`, 't')] }));
      messages.push(msg({ role: 'tool', toolCallId: `c${i}`, toolName: 't', content: `r${i}` }));
    }
    const history = toConversationHistory(messages);
    expect(history).toHaveLength(60_000);
    expect(history[59_999]).toEqual({ role: 'user', content: '[Tool result (t): r19999]' });
  });
});
