import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';

/** A dispatched SSE event (`data:` lines joined by `\n`) or a comment line (`: keepalive`). */
export type SseItem =
  | { readonly kind: 'data'; readonly data: string; readonly event?: string; readonly id?: string }
  | { readonly kind: 'comment'; readonly text: string };

/**
 * An incremental parser for the SSE wire format (WHATWG "event stream interpretation"): lines
 * end with CRLF, LF or CR; a blank line dispatches; `:` starts a comment (reported, not dropped).
 */
export class SseParser {
  private pending = '';
  private lastWasCR = false;
  private data: string[] = [];
  private event: string | undefined;
  private id: string | undefined;

  constructor(private readonly onItem: (item: SseItem) => void) {}

  push(text: string): void {
    let s = this.pending + text;
    this.pending = '';
    if (this.lastWasCR && s.charCodeAt(0) === 10) s = s.slice(1);
    this.lastWasCR = false;
    let start = 0;
    const len = s.length;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(s.slice(start, i));
      if (c === 13) {
        if (i + 1 === len) this.lastWasCR = true;
        else if (s.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.pending = s.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length) {
        this.onItem({
          kind: 'data',
          data: this.data.join('\n'),
          ...(this.event !== undefined ? { event: this.event } : {}),
          ...(this.id !== undefined ? { id: this.id } : {}),
        });
      }
      this.data = [];
      this.event = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.onItem({ kind: 'comment', text: line.slice(line.charCodeAt(1) === 32 ? 2 : 1) });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id') this.id = value;
  }
}

/** How a stream ended: `complete` is false when the connection broke before the response ended. */
export interface SseEnd {
  readonly complete: boolean;
  readonly error?: Error;
}

export interface SseOpenOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** Called for each item as it is parsed (for benchmarks: set `collect: false`). */
  readonly onItem?: (item: SseItem) => void;
  /** Keep items in `items` (default true). */
  readonly collect?: boolean;
  /** Keep the raw text in `raw` (default false). */
  readonly keepRaw?: boolean;
}

/** One `GET` of an event stream over `node:http`. */
export class SseStream {
  readonly items: SseItem[] = [];
  raw = '';
  /** The body text of a non-200 answer. */
  body = '';
  /** Resolves when the response ends or the connection breaks. */
  readonly done: Promise<SseEnd>;
  private ended: SseEnd | undefined;
  private readonly listeners = new Set<() => void>();
  private resolveDone!: (end: SseEnd) => void;

  constructor(
    private readonly res: IncomingMessage,
    options: SseOpenOptions,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    const collect = options.collect ?? true;
    const keepRaw = options.keepRaw ?? false;
    const ok = res.statusCode === 200;
    const parser = new SseParser((item) => {
      if (collect) this.items.push(item);
      options.onItem?.(item);
      this.notify();
    });
    const decoder = new StringDecoder('utf8');
    res.on('data', (chunk: Buffer) => {
      const text = decoder.write(chunk);
      if (keepRaw) this.raw += text;
      if (ok) parser.push(text);
      else this.body += text;
    });
    res.on('error', (error: Error) => this.finish({ complete: false, error }));
    res.on('close', () => this.finish({ complete: res.complete }));
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  get headers(): IncomingHttpHeaders {
    return this.res.headers;
  }

  /** The parsed JSON of every data item (throws on a non-JSON one). */
  get events(): unknown[] {
    return this.dataItems().map((d) => JSON.parse(d) as unknown);
  }

  dataItems(): string[] {
    const out: string[] = [];
    for (const item of this.items) if (item.kind === 'data') out.push(item.data);
    return out;
  }

  comments(): string[] {
    const out: string[] = [];
    for (const item of this.items) if (item.kind === 'comment') out.push(item.text);
    return out;
  }

  /** Resolves when `predicate` holds for the collected items; rejects on timeout or stream end. */
  waitFor(predicate: (items: readonly SseItem[]) => boolean, timeoutMs = 5000): Promise<void> {
    if (predicate(this.items)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate(this.items)) {
          cleanup();
          resolve();
        } else if (this.ended) {
          cleanup();
          reject(
            new Error(`SSE stream ended (complete=${this.ended.complete}) before the awaited item`),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`SSE: timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  /** Waits until a data item whose JSON has `event === type` has arrived. */
  waitForEvent(type: string, timeoutMs = 5000): Promise<void> {
    return this.waitFor(
      (items) => items.some((i) => i.kind === 'data' && eventType(i.data) === type),
      timeoutMs,
    );
  }

  /** Closes the connection from the client side. */
  close(): void {
    this.res.destroy();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private finish(end: SseEnd): void {
    if (this.ended) return;
    this.ended = end;
    this.resolveDone(end);
    this.notify();
  }
}

function eventType(data: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    if (typeof parsed === 'object' && parsed !== null && 'event' in parsed) {
      const event = parsed.event;
      return typeof event === 'string' ? event : undefined;
    }
  } catch {
    // not JSON: not an event
  }
  return undefined;
}

/** Opens `url` and resolves once the response headers are in (whatever the status). */
export function openSse(url: string, options: SseOpenOptions = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'GET',
      headers: { Accept: 'text/event-stream', ...options.headers },
      agent: false,
    });
    req.on('response', (res) => resolve(new SseStream(res, options)));
    req.on('error', reject);
    req.end();
  });
}
