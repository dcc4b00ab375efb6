import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { get_encoding, Tiktoken, TiktokenEncoding } from 'tiktoken';
import { Worker } from 'node:worker_threads';

/**
 * Inputs above this many UTF-16 units are tokenised on a worker thread. A reply is counted once,
 * when its run ends, and runs end together under load: counted inline, 500 replies of 4 KB held
 * the event loop for ~150 ms (every stream waited). The hop costs tens of microseconds; a short
 * user message at a run's start stays inline, where the hop would be most of the cost.
 */
const INLINE_LIMIT = 1024;

/**
 * Texts longer than this many UTF-16 units get the byte estimate instead of an exact count: a
 * count only feeds the context estimate, and such a text is far past any model's context.
 */
export const EXACT_LIMIT = 1_000_000;

/**
 * Runs of non-space characters longer than this are counted in pieces of this length. tiktoken's
 * merge step is quadratic in the length of one pre-token: 'r' × 200,000 took 37 s here (a runaway
 * reply, or a pasted blob), and the worker counts one text at a time, so every run's end would
 * wait behind it. Counted in pieces it takes milliseconds, a few tokens off at the cuts.
 */
export const LONG_RUN = 256;

/** Newer OpenAI families use o200k; everything else gets cl100k, a fair proxy for most models. */
export function encodingForModel(model: string | undefined | null): TiktokenEncoding {
  return /(gpt-4o|gpt-4\.1|gpt-5|chatgpt|^o\d)/i.test(model ?? '') ? 'o200k_base' : 'cl100k_base';
}

/** Used when an encoder cannot take the text: about four bytes of UTF-8 per token. */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
}

// The worker is plain JavaScript so that it runs the same from ts-node, jest and dist/. Its
// code is evaluated, so a bare require would resolve from the working directory, which need not
// be the project's (the server started from elsewhere): tiktoken is named by its resolved path.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { get_encoding } = require(${JSON.stringify(require.resolve('tiktoken'))});
const encoders = new Map();
const PIECE = ${LONG_RUN};
const LONG = /\\S{${LONG_RUN + 1},}/g;
function countText(enc, text) {
  let count = 0;
  let from = 0;
  for (const run of text.matchAll(LONG)) {
    count += enc.encode_ordinary(text.slice(from, run.index)).length;
    for (let at = 0; at < run[0].length; at += PIECE) {
      count += enc.encode_ordinary(run[0].slice(at, at + PIECE)).length;
    }
    from = run.index + run[0].length;
  }
  return count + enc.encode_ordinary(text.slice(from)).length;
}
parentPort.on('message', ({ id, text, encoding }) => {
  try {
    let enc = encoders.get(encoding);
    if (!enc) { enc = get_encoding(encoding); encoders.set(encoding, enc); }
    parentPort.postMessage({ id, count: countText(enc, text) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error) });
  }
});
`;

interface WorkerReply {
  id: number;
  count?: number;
  error?: string;
}

/**
 * Counts tokens with tiktoken. Each message is counted once, when it is stored; context
 * estimates add up stored counts. Long texts go to a worker thread so that a 500 KB input
 * never stalls the event loop for the other sessions.
 */
@Injectable()
export class TokenCounter implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(TokenCounter.name);
  private readonly encoders = new Map<TiktokenEncoding, Tiktoken>();
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();

  /**
   * Loads the default encoder at startup: building it takes about 250 ms, which would otherwise
   * fall on the first run (or the first compression) after every start.
   */
  onModuleInit(): void {
    this.encoder('cl100k_base');
  }

  async count(text: string, model?: string | null): Promise<number> {
    if (text.length === 0) return 0;
    const encoding = encodingForModel(model);
    if (text.length <= INLINE_LIMIT) return this.countInline(text, encoding);
    if (text.length > EXACT_LIMIT) return estimateTokens(text);
    const reply = await this.countOnWorker(text, encoding);
    if (reply.count !== undefined) return reply.count;
    this.logger.warn(`Tokeniser failed (${reply.error}); using the byte estimate`);
    return estimateTokens(text);
  }

  /** Synchronous count for short texts already known to be small (hot paths, tests). */
  countInline(text: string, encoding: TiktokenEncoding = 'cl100k_base'): number {
    try {
      return this.encoder(encoding).encode_ordinary(text).length;
    } catch (error) {
      this.logger.warn(`Tokeniser failed (${String(error)}); using the byte estimate`);
      return estimateTokens(text);
    }
  }

  /**
   * The longest start of `text` with at most `maxTokens` tokens (a summary longer than its
   * budget). Summaries are a few thousand tokens, so this stays inline.
   */
  truncate(text: string, maxTokens: number, encoding: TiktokenEncoding = 'cl100k_base'): string {
    const encoder = this.encoder(encoding);
    const tokens = encoder.encode_ordinary(text);
    if (tokens.length <= maxTokens) return text;
    // A cut inside a multi-byte character decodes to U+FFFD, which is dropped.
    return new TextDecoder()
      .decode(encoder.decode(tokens.slice(0, Math.max(0, maxTokens))))
      .replace(/\uFFFD+$/, '');
  }

  onModuleDestroy(): void {
    for (const encoder of this.encoders.values()) encoder.free();
    this.encoders.clear();
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private encoder(encoding: TiktokenEncoding): Tiktoken {
    let encoder = this.encoders.get(encoding);
    if (!encoder) {
      encoder = get_encoding(encoding);
      this.encoders.set(encoding, encoder);
    }
    return encoder;
  }

  private countOnWorker(text: string, encoding: TiktokenEncoding): Promise<WorkerReply> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, text, encoding });
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    worker.on('error', (error) => this.failPending(String(error)));
    worker.on('exit', () => {
      this.failPending('tokeniser worker exited');
      if (this.worker === worker) this.worker = undefined;
    });
    this.worker = worker;
    return worker;
  }

  private failPending(error: string): void {
    for (const [id, resolve] of this.pending) resolve({ id, error });
    this.pending.clear();
  }
}
