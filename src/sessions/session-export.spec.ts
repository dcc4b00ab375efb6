import { renderJsonExport, renderMarkdownExport } from './session-export';
import { presentMessage, presentSession } from './session.presenter';
import type { Message, Session } from './session.types';

const SESSION: Session = {
  id: 'sess-1',
  profile: 'default',
  model: 'hermes-4',
  title: 'Rotating "logs" \\ safely',
  preview: 'How do I rotate logs?',
  workspace: '/home/me/project',
  createdAt: 1_764_230_000,
  lastActive: 1_764_230_100.5,
  messageCount: 0,
  inputTokens: 10,
  outputTokens: 20,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 3,
  context: { inputTokens: 0, outputTokens: 0 },
};

function message(id: number, overrides: Partial<Message> = {}): Message {
  return {
    id,
    sessionId: SESSION.id,
    role: 'user',
    content: `message ${id} with "quotes", a \\ and a newline\n`,
    reasoning: null,
    toolCalls: null,
    toolCallId: null,
    toolName: null,
    finishReason: null,
    runId: null,
    tokenCount: 5,
    timestamp: 1_764_230_000 + id,
    ...overrides,
  };
}

async function* pagesOf(...pages: Message[][]): AsyncIterable<Message[]> {
  for (const page of pages) {
    await Promise.resolve();
    yield page;
  }
}

async function collect(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

describe('renderJsonExport', () => {
  it('renders a session without messages', async () => {
    const json = await collect(renderJsonExport(SESSION, pagesOf()));
    expect(JSON.parse(json)).toEqual({ session: presentSession(SESSION), messages: [] });
  });

  it('renders only empty pages as no messages', async () => {
    const json = await collect(renderJsonExport(SESSION, pagesOf([], [])));
    expect(JSON.parse(json)).toEqual({ session: presentSession(SESSION), messages: [] });
  });

  it('renders one message', async () => {
    const only = message(1);
    const json = await collect(renderJsonExport(SESSION, pagesOf([only])));
    expect(JSON.parse(json)).toEqual({
      session: presentSession(SESSION),
      messages: [presentMessage(only)],
    });
  });

  it('renders many messages over several pages, empty ones included, in order', async () => {
    const messages = Array.from({ length: 7 }, (_, i) => message(i + 1));
    const json = await collect(
      renderJsonExport(
        SESSION,
        pagesOf(messages.slice(0, 3), [], messages.slice(3, 4), messages.slice(4)),
      ),
    );
    expect(JSON.parse(json)).toEqual({
      session: presentSession(SESSION),
      messages: messages.map(presentMessage),
    });
  });

  it('streams: the head is out before the first page is read', async () => {
    let pagesRead = 0;
    async function* counted(): AsyncIterable<Message[]> {
      pagesRead++;
      await Promise.resolve();
      yield [message(1)];
    }
    const iterator = renderJsonExport(SESSION, counted())[Symbol.asyncIterator]();
    const head = await iterator.next();
    expect(head.value).toContain('"session"');
    expect(pagesRead).toBe(0);
  });
});

describe('renderMarkdownExport', () => {
  it('renders the header, role headings, reasoning, tool calls and tool results', async () => {
    const markdown = await collect(
      renderMarkdownExport(
        SESSION,
        pagesOf(
          [message(1, { content: 'Find the log config' })],
          [
            message(2, {
              role: 'assistant',
              content: '',
              reasoning: 'I should search first',
              toolCalls: [
                {
                  id: 'call_1',
                  type: 'function',
                  function: { name: 'search_files', arguments: '{"q":"logrotate"}' },
                },
              ],
            }),
            message(3, { role: 'tool', toolName: 'search_files', content: '/etc/logrotate.conf' }),
            message(4, { role: 'assistant', content: 'It is in /etc/logrotate.conf' }),
          ],
        ),
      ),
    );

    expect(markdown.startsWith(`# ${SESSION.title}\n`)).toBe(true);
    expect(markdown).toContain('- Session: `sess-1`');
    expect(markdown).toContain('- Model: hermes-4');
    expect(markdown).toContain('- Workspace: /home/me/project');
    expect(markdown).toContain(`- Created: ${new Date(SESSION.createdAt * 1000).toISOString()}`);
    expect(markdown).toContain(
      `## User · ${new Date((SESSION.createdAt + 1) * 1000).toISOString()}`,
    );
    expect(markdown.match(/^## Assistant · /gm)).toHaveLength(2);
    expect(markdown).toContain('## Tool result (search_files) · ');
    expect(markdown).toContain('<details><summary>Reasoning</summary>\n\nI should search first');
    expect(markdown).toContain(
      '**Tool call** `search_files` (call_1)\n\n```json\n{"q":"logrotate"}\n```',
    );
    // Transcript order is kept.
    const order = ['Find the log config', 'search_files', '/etc/logrotate.conf', 'It is in'];
    const positions = order.map((text) => markdown.indexOf(text, markdown.indexOf('## User')));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('titles an untitled session by its preview, then its id', async () => {
    const untitled = { ...SESSION, title: null };
    expect(await collect(renderMarkdownExport(untitled, pagesOf()))).toMatch(
      /^# How do I rotate logs\?\n/,
    );
    const bare = { ...untitled, preview: null, model: null, workspace: null };
    const markdown = await collect(renderMarkdownExport(bare, pagesOf()));
    expect(markdown).toMatch(/^# sess-1\n/);
    expect(markdown).not.toContain('- Model:');
    expect(markdown).not.toContain('- Workspace:');
  });
});
