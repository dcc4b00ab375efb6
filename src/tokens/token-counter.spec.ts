import { Logger } from '@nestjs/common';
import { get_encoding } from 'tiktoken';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  encodingForModel,
  estimateTokens,
  EXACT_LIMIT,
  LONG_RUN,
  TokenCounter,
} from './token-counter';

/** Prose-like text of about `length` characters (tiktoken is slow on long runs of one char). */
function prose(length: number): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'lorem', 'ipsum', 'dolor', 'Hermes', 'sit'];
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < length; i++) {
    const part = words[(i * 7) % words.length] + (i % 13 === 0 ? '.\n' : ' ');
    parts.push(part);
    size += part.length;
  }
  return parts.join('');
}

describe('encodingForModel', () => {
  it.each([
    'gpt-4o',
    'gpt-4o-mini',
    'GPT-4o',
    'gpt-4.1',
    'gpt-5',
    'gpt-5-mini',
    'o3',
    'o1',
    'o4-mini',
  ])('uses o200k_base for %s', (model) => {
    expect(encodingForModel(model)).toBe('o200k_base');
  });

  it.each([undefined, null, '', 'gpt-4', 'gpt-3.5-turbo', 'hermes-4-70b', 'claude-sonnet', 'foo3'])(
    'uses cl100k_base for %p',
    (model) => {
      expect(encodingForModel(model)).toBe('cl100k_base');
    },
  );
});

describe('estimateTokens', () => {
  it('is about four UTF-8 bytes per token', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcde')).toBe(2);
    expect(estimateTokens('€€')).toBe(2);
  });
});

describe('TokenCounter', () => {
  const counter = new TokenCounter();
  let warned: jest.SpyInstance;

  beforeEach(() => {
    warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(() => counter.onModuleDestroy());

  it('counts known texts', async () => {
    expect(await counter.count('hello world')).toBe(2);
    expect(counter.countInline('hello world')).toBe(2);
    expect(await counter.count('')).toBe(0);
  });

  it('counts with the encoding of the model', async () => {
    // o200k has far more non-Latin tokens than cl100k.
    const text = 'नमस्ते दुनिया, आप कैसे हैं?';
    const cl100k = counter.countInline(text, 'cl100k_base');
    const o200k = counter.countInline(text, 'o200k_base');
    expect(o200k).toBeLessThan(cl100k);
    expect(await counter.count(text, 'gpt-4o')).toBe(o200k);
    expect(await counter.count(text, 'hermes-4')).toBe(cl100k);
  });

  it('counts special-token text as ordinary text without throwing', async () => {
    const text = 'before <|endoftext|> after <|im_start|>';
    const count = await counter.count(text);
    // As special tokens each marker would be one token; as text they are several.
    expect(count).toBeGreaterThan(6);
    expect(warned).not.toHaveBeenCalled();
  });

  it('gives the same count on the worker as inline for a long text', async () => {
    const long = `${prose(40_000)} <|endoftext|> ${prose(1_000)}`;
    expect(long.length).toBeGreaterThan(16 * 1024);
    const onWorker = await counter.count(long);
    expect(onWorker).toBe(counter.countInline(long));
    expect(await counter.count(long, 'gpt-5')).toBe(counter.countInline(long, 'o200k_base'));
    expect(warned).not.toHaveBeenCalled();
  });

  it('counts on the worker when the server runs from another working directory', async () => {
    const from = process.cwd();
    const elsewhere = new TokenCounter();
    try {
      process.chdir(tmpdir());
      const long = prose(20_000);
      expect(await elsewhere.count(long)).toBe(counter.countInline(long));
      expect(warned).not.toHaveBeenCalled();
    } finally {
      process.chdir(from);
      elsewhere.onModuleDestroy();
    }
  });

  it('answers concurrent worker requests each with its own count', async () => {
    const texts = [prose(20_000), prose(30_000), prose(25_000)];
    const counts = await Promise.all(texts.map((text) => counter.count(text)));
    expect(counts).toEqual(texts.map((text) => counter.countInline(text)));
  });

  it('estimates a text over EXACT_LIMIT from its bytes instead of handing it to tiktoken', async () => {
    const runaway = 'r'.repeat(EXACT_LIMIT + 1);
    const posted = jest.spyOn(Worker.prototype, 'postMessage');
    expect(await counter.count(runaway)).toBe(estimateTokens(runaway));
    expect(posted).not.toHaveBeenCalled();
    // At the limit it is still counted exactly, on the worker.
    const atLimit = prose(EXACT_LIMIT).slice(0, EXACT_LIMIT);
    expect(await counter.count(atLimit)).toBe(counter.countInline(atLimit));
    expect(posted).toHaveBeenCalledTimes(1);
  });

  it('counts a long run without spaces in pieces (tiktoken is quadratic in one pre-token)', async () => {
    const blob = 'r'.repeat(300_000);
    const text = `${prose(2_000)} ${blob} ${prose(2_000)}`;
    const pieces = (run: string): number => {
      let sum = 0;
      for (let at = 0; at < run.length; at += LONG_RUN) {
        sum += counter.countInline(run.slice(at, at + LONG_RUN));
      }
      return sum;
    };
    // Whole, this would hold the worker for minutes; in pieces it is answered at once.
    expect(await counter.count(text)).toBe(
      counter.countInline(`${prose(2_000)} `) +
        pieces(blob) +
        counter.countInline(` ${prose(2_000)}`),
    );
    // A run up to the piece length is counted whole, as anywhere else.
    const word = 'x'.repeat(LONG_RUN);
    const short = `${prose(2_000)} ${word}`;
    expect(await counter.count(short)).toBe(counter.countInline(short));
  });

  it('keeps the event loop responsive while a ~500 KB text is counted', async () => {
    const big = prose(500_000);
    // Both encoders (inline and in the worker) are loaded before timing anything.
    counter.countInline('warm up');
    await counter.count(prose(20_000));

    const inlineStart = performance.now();
    const expected = counter.countInline(big);
    const inlineMs = performance.now() - inlineStart;

    // Handing the text over returns at once; the event loop keeps turning while it is counted.
    const callStart = performance.now();
    const pending = counter.count(big);
    const callMs = performance.now() - callStart;
    let turnedMeanwhile = false;
    setImmediate(() => (turnedMeanwhile = true));
    const count = await pending;

    expect(count).toBe(expected);
    expect(turnedMeanwhile).toBe(true);
    // Counted inline, the call itself would take the whole count.
    expect(callMs).toBeLessThan(inlineMs / 4);
  });
});

describe('TokenCounter.truncate', () => {
  const counter = new TokenCounter();

  afterAll(() => counter.onModuleDestroy());

  /** Whether `text` ends in half of a surrogate pair (a cut inside an astral character). */
  const endsInHalfPair = (text: string): boolean => {
    const last = text.charCodeAt(text.length - 1);
    return last >= 0xd800 && last <= 0xdbff;
  };

  it('returns a text within the budget unchanged', () => {
    const text = prose(400);
    const tokens = counter.countInline(text);
    expect(counter.truncate(text, tokens)).toBe(text);
    expect(counter.truncate(text, tokens + 100)).toBe(text);
    expect(counter.truncate('', 0)).toBe('');
  });

  it('returns nothing for a budget of no tokens', () => {
    expect(counter.truncate('hello world', 0)).toBe('');
  });

  it('cuts a longer text to the longest start that fits the budget', () => {
    const text = prose(2000);
    const tokens = counter.countInline(text);
    for (const maxTokens of [1, 2, 7, 50, 199, tokens - 1]) {
      const cut = counter.truncate(text, maxTokens);
      expect(text.startsWith(cut)).toBe(true);
      expect(cut.length).toBeLessThan(text.length);
      // Plain words re-encode to the same tokens: the cut is exactly the budget.
      expect(counter.countInline(cut)).toBe(maxTokens);
    }
    expect(counter.truncate('hello world', 1)).toBe('hello');
  });

  it('counts with the encoding it is given', () => {
    const text = 'नमस्ते दुनिया, आप कैसे हैं? '.repeat(20);
    const cut = counter.truncate(text, 30, 'o200k_base');
    expect(text.startsWith(cut)).toBe(true);
    const o200k = counter.countInline(cut, 'o200k_base');
    expect(o200k).toBeLessThanOrEqual(30);
    expect(o200k).toBeGreaterThanOrEqual(27);
    // The same budget in cl100k tokens covers a much shorter start of this text.
    expect(counter.truncate(text, 30, 'cl100k_base').length).toBeLessThan(cut.length);
  });

  it.each([
    ['emoji', '🙂 launch 🚀 by 👩‍💻 in 🇫🇷, 🎉🎉🎉 ok. '.repeat(8)],
    [
      'CJK',
      '东京是日本的首都，人口众多。サーバーが応答しません。서울은 한국의 수도입니다. '.repeat(6),
    ],
  ])('cuts %s text only between characters, with no U+FFFD left', (_name, text) => {
    const encoder = get_encoding('cl100k_base');
    const decoder = new TextDecoder();
    const tokens = encoder.encode_ordinary(text);
    let cutsInsideCharacters = 0;
    try {
      for (let maxTokens = 1; maxTokens < tokens.length; maxTokens++) {
        const raw = decoder.decode(encoder.decode(tokens.slice(0, maxTokens)));
        if (raw.endsWith('\uFFFD')) cutsInsideCharacters++;

        const cut = counter.truncate(text, maxTokens);
        expect(text.startsWith(cut)).toBe(true);
        expect(cut).not.toContain('\uFFFD');
        expect(endsInHalfPair(cut)).toBe(false);
        const cutTokens = counter.countInline(cut);
        expect(cutTokens).toBeLessThanOrEqual(maxTokens);
        // Dropping a half character gives up at most the few byte tokens it was split into.
        expect(cutTokens).toBeGreaterThanOrEqual(maxTokens - 3);
      }
    } finally {
      encoder.free();
    }
    // The texts do make the budget fall inside characters, not only between them.
    expect(cutsInsideCharacters).toBeGreaterThan(5);
  });
});
