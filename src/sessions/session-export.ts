import type { Response } from 'express';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Message, Session } from './session.types';
import { presentMessage, presentSession } from './session.presenter';

/** How an export is rendered and what kind of file it is downloaded as. */
export interface ExportFile {
  rendering: 'json' | 'markdown';
  contentType: string;
  extension: string;
}

export const EXPORT_FILES = {
  json: { rendering: 'json', contentType: 'application/json; charset=utf-8', extension: 'json' },
  markdown: {
    rendering: 'markdown',
    contentType: 'text/markdown; charset=utf-8',
    extension: 'md',
  },
  /** The Markdown rendering as plain text. */
  text: { rendering: 'markdown', contentType: 'text/plain; charset=utf-8', extension: 'txt' },
} as const satisfies Record<string, ExportFile>;

/** Streams the whole session to `res` as a download named after it. */
export async function sendSessionExport(
  res: Response,
  session: Session,
  pages: AsyncIterable<Message[]>,
  file: ExportFile,
): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', file.contentType);
  res.setHeader(
    'Content-Disposition',
    `attachment; filename="session-${encodeURIComponent(session.id)}.${file.extension}"`,
  );
  const chunks =
    file.rendering === 'markdown'
      ? renderMarkdownExport(session, pages)
      : renderJsonExport(session, pages);
  await pipeline(Readable.from(chunks), res);
}

/**
 * Renders an export as a sequence of chunks so that a long transcript is streamed to the
 * client page by page instead of being built in memory.
 */
export async function* renderJsonExport(
  session: Session,
  pages: AsyncIterable<Message[]>,
): AsyncIterable<string> {
  const head = JSON.stringify({ session: presentSession(session) });
  yield `${head.slice(0, -1)},"messages":[`;
  let first = true;
  for await (const page of pages) {
    for (const message of page) {
      yield `${first ? '' : ','}${JSON.stringify(presentMessage(message))}`;
      first = false;
    }
  }
  yield ']}\n';
}

export async function* renderMarkdownExport(
  session: Session,
  pages: AsyncIterable<Message[]>,
): AsyncIterable<string> {
  yield `# ${session.title ?? session.preview ?? session.id}\n\n`;
  yield `- Session: \`${session.id}\`\n- Profile: ${session.profile}\n`;
  if (session.model) yield `- Model: ${session.model}\n`;
  if (session.workspace) yield `- Workspace: ${session.workspace}\n`;
  yield `- Created: ${new Date(session.createdAt * 1000).toISOString()}\n`;
  for await (const page of pages) {
    for (const message of page) yield renderMarkdownMessage(message);
  }
}

function renderMarkdownMessage(message: Message): string {
  const when = new Date(message.timestamp * 1000).toISOString();
  const heading =
    message.role === 'tool'
      ? `Tool result${message.toolName ? ` (${message.toolName})` : ''}`
      : capitalise(message.role);
  let out = `\n## ${heading} · ${when}\n\n`;
  if (message.reasoning)
    out += `<details><summary>Reasoning</summary>\n\n${message.reasoning}\n\n</details>\n\n`;
  if (message.content) out += `${message.content}\n`;
  for (const call of message.toolCalls ?? []) {
    out += `\n**Tool call** \`${call.function.name}\` (${call.id})\n\n\`\`\`json\n${call.function.arguments}\n\`\`\`\n`;
  }
  return out;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
