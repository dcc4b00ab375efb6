import type { ToolCall } from '../sessions/session.types';
import { parsePythonLiteral } from './python-literal';

/**
 * Content blocks in both directions:
 * - what clients send as `run.input` ({@link ContentBlock}), flattened to text for the upstream and
 *   stored as JSON;
 * - what the upstream sends as assistant text: sometimes not text but a stringified content-block
 *   array (JSON, a Python literal, or either serialised once more as a quoted string), which is
 *   normalised into content, reasoning and tool calls.
 */

export type TextBlock = { type: 'text'; text: string };
export type ImageBlock = { type: 'image'; name: string; path: string; media_type: string };
export type FileBlock = { type: 'file'; name: string; path: string; media_type?: string };
/** A block of a client's `run.input` (validated at the socket edge). */
export type ContentBlock = TextBlock | ImageBlock | FileBlock;

/** One element of a parsed block array: an object with a string `type`; other fields unchecked. */
export interface ContentBlockLike {
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface NormalisedContent {
  content: string;
  reasoning: string | null;
  toolCalls: ToolCall[];
}

/** A quoted array may be quoted again; deeper wrapping is not something the upstream does. */
const MAX_QUOTE_LAYERS = 3;

const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]
const DOUBLE_QUOTE = 0x22; // "
const SINGLE_QUOTE = 0x27; // '
const BACKSLASH = 0x5c; // \

/**
 * Parses `text` as a stringified, non-empty array of content blocks (objects with a string `type`):
 * JSON, a Python literal (`'single quotes'`, `True`/`False`/`None`), or either of those held in a
 * JSON or Python string literal (double serialisation), or wrapped in bare outer quotes. Surrounding
 * whitespace is ignored. Anything else is text and gives `null`: `[1] see note`, `[link](url)`,
 * `[]`, `[1, 2]`, unterminated or malformed arrays.
 *
 * Cheap on ordinary text: unless the first and last non-blank characters are `[`/`]` or matching
 * quotes, nothing is parsed.
 */
export function parseContentArray(text: string): ContentBlockLike[] | null {
  return parseLayer(text, 0);
}

function parseLayer(text: string, layer: number): ContentBlockLike[] | null {
  let start = 0;
  while (start < text.length && isSpace(text.charCodeAt(start))) start++;
  if (start === text.length) return null;
  const first = text.charCodeAt(start);
  if (first !== OPEN_BRACKET && first !== DOUBLE_QUOTE && first !== SINGLE_QUOTE) return null;
  let end = text.length - 1;
  while (isSpace(text.charCodeAt(end))) end--;
  const last = text.charCodeAt(end);
  const body = start === 0 && end === text.length - 1 ? text : text.slice(start, end + 1);

  if (first === OPEN_BRACKET)
    return last === CLOSE_BRACKET ? asBlockArray(parseArrayText(body)) : null;

  // A quoted layer: `"[...]"` / `'[...]'`, as an escaped string literal or with bare quotes.
  if (last !== first || body.length < 4 || layer >= MAX_QUOTE_LAYERS) return null;
  const next = body.charCodeAt(1);
  if (
    next !== OPEN_BRACKET &&
    next !== BACKSLASH &&
    next !== DOUBLE_QUOTE &&
    next !== SINGLE_QUOTE
  ) {
    return null;
  }
  const decoded = decodeStringLiteral(body);
  if (decoded !== null) {
    const blocks = parseLayer(decoded, layer + 1);
    if (blocks !== null) return blocks;
  }
  return parseLayer(body.slice(1, -1), layer + 1);
}

/** JSON first (native and exact for JSON escapes such as `\/`), then Python-literal syntax. */
function parseArrayText(body: string): unknown {
  const json = tryJson(body);
  if (json.ok) return json.value;
  const literal = parsePythonLiteral(body);
  return literal.ok ? literal.value : undefined;
}

function decodeStringLiteral(body: string): string | null {
  const parsed = body.charCodeAt(0) === DOUBLE_QUOTE ? tryJson(body) : { ok: false as const };
  const result = parsed.ok ? parsed : parsePythonLiteral(body);
  return result.ok && typeof result.value === 'string' ? result.value : null;
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    // Not JSON is an expected answer here; anything else is a real fault.
    if (error instanceof SyntaxError) return { ok: false };
    throw error;
  }
}

function asBlockArray(value: unknown): ContentBlockLike[] | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  return value.every(isBlockLike) ? value : null;
}

function isBlockLike(value: unknown): value is ContentBlockLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { type?: unknown }).type === 'string'
  );
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * Assistant text as the protocol stores and shows it: when `text` is a stringified block array,
 * its `text` blocks are joined (no separator) into `content`, its `thinking` blocks (field
 * `thinking`, else `text`) are joined with a blank line into `reasoning`, and its `tool_use` blocks
 * become tool calls; other block types are dropped. Any other text passes through unchanged.
 */
export function normaliseAssistantContent(text: string): NormalisedContent {
  const blocks = parseContentArray(text);
  return blocks === null
    ? { content: text, reasoning: null, toolCalls: [] }
    : normaliseBlocks(blocks);
}

export function normaliseBlocks(blocks: readonly ContentBlockLike[]): NormalisedContent {
  let content = '';
  const thoughts: string[] = [];
  const toolCalls: ToolCall[] = [];
  blocks.forEach((block, index) => {
    switch (block.type) {
      case 'text':
        if (typeof block.text === 'string') content += block.text;
        break;
      case 'thinking': {
        const thought = stringField(block, 'thinking') ?? stringField(block, 'text');
        if (thought) thoughts.push(thought);
        break;
      }
      case 'tool_use':
        toolCalls.push(toolUseToCall(block, index));
        break;
    }
  });
  return { content, reasoning: thoughts.length > 0 ? thoughts.join('\n\n') : null, toolCalls };
}

/** A `tool_use` block as an OpenAI-style call; a block without an id gets `toolu_<index>`. */
function toolUseToCall(block: ContentBlockLike, index: number): ToolCall {
  const input = block.input;
  return {
    id: stringField(block, 'id') || `toolu_${index}`,
    type: 'function',
    function: {
      name: stringField(block, 'name') ?? 'unknown',
      arguments: typeof input === 'string' ? input : input == null ? '{}' : JSON.stringify(input),
    },
  };
}

function stringField(block: ContentBlockLike, key: string): string | undefined {
  const value = block[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * A client's input as the upstream's `input` text: text blocks as they are, `[Image: path]` and
 * `[File: path]` for attachments, one block per line (`\n` between blocks).
 */
export function flattenInput(input: string | readonly ContentBlock[]): string {
  return typeof input === 'string' ? input : flattenBlocks(input);
}

/**
 * {@link flattenInput} for untrusted blocks (e.g. read back from storage): an attachment without a
 * `path` falls back to its `name`; an unknown block type contributes its `text`, if any.
 */
export function flattenBlocks(blocks: readonly ContentBlockLike[]): string {
  const parts: string[] = [];
  for (const block of blocks) {
    if (block.type === 'image' || block.type === 'file') {
      const where = stringField(block, 'path') || stringField(block, 'name') || '';
      parts.push(`[${block.type === 'image' ? 'Image' : 'File'}: ${where}]`);
    } else {
      const text = stringField(block, 'text');
      if (text !== undefined) parts.push(text);
    }
  }
  return parts.join('\n');
}

/** Text for titles and previews: a string as it is, or the text blocks joined with `\n`. */
export function previewText(input: string | readonly ContentBlock[]): string {
  if (typeof input === 'string') return input;
  const texts: string[] = [];
  for (const block of input) if (block.type === 'text') texts.push(block.text);
  return texts.join('\n');
}

/**
 * The user message's stored `content`: a string as it is; blocks as their JSON text, the form
 * hermes-studio's client renders.
 */
export function storedUserContent(input: string | readonly ContentBlock[]): string {
  return typeof input === 'string' ? input : JSON.stringify(input);
}

/**
 * The blocks of a user message stored by {@link storedUserContent}, or `null` when the stored
 * content is plain text (JSON only: stored input was never a Python literal).
 */
export function parseStoredUserBlocks(content: string): ContentBlockLike[] | null {
  if (
    content.charCodeAt(0) !== OPEN_BRACKET ||
    content.charCodeAt(content.length - 1) !== CLOSE_BRACKET
  ) {
    return null;
  }
  const parsed = tryJson(content);
  return parsed.ok ? asBlockArray(parsed.value) : null;
}

/**
 * A stored user message's content (see {@link storedUserContent}) as text for the upstream: stored
 * blocks are flattened like {@link flattenInput}; plain text is returned as it is.
 */
export function flattenStoredInput(stored: string): string {
  const blocks = parseStoredUserBlocks(stored);
  return blocks === null ? stored : flattenBlocks(blocks);
}

/** {@link previewText} of a stored user message's content (see {@link storedUserContent}). */
export function storedPreviewText(stored: string): string {
  const blocks = parseStoredUserBlocks(stored);
  if (blocks === null) return stored;
  return blocks
    .filter((block) => block.type === 'text')
    .map((block) => stringField(block, 'text') ?? '')
    .join('\n');
}
