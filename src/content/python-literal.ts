/**
 * A small, safe parser for Python literals as `repr()` prints them: `str` (single or double
 * quotes, with Python's escapes), `int`, `float`, `True`, `False`, `None`, `list` and `dict`.
 * JSON spellings (`true`, `false`, `null`) are accepted too, because the upstream sometimes mixes
 * them. Nothing is evaluated: anything else (tuples, sets, calls, names, string prefixes, `\N{...}`
 * escapes, nesting deeper than {@link MAX_DEPTH}) is a syntax error.
 */

export type LiteralResult = { ok: true; value: unknown } | { ok: false };

/** Deeper nesting is rejected rather than risking the call stack on hostile input. */
export const MAX_DEPTH = 64;

const FAILED: LiteralResult = { ok: false };

/** Parses the whole of `text` (surrounding whitespace allowed) as one Python literal. */
export function parsePythonLiteral(text: string): LiteralResult {
  try {
    return { ok: true, value: new LiteralParser(text).parseDocument() };
  } catch (error) {
    if (error instanceof LiteralSyntaxError) return FAILED;
    throw error;
  }
}

/** Internal: unwinds the recursive descent on the first syntax error. */
class LiteralSyntaxError extends Error {}

const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const KEYWORDS: ReadonlyMap<string, boolean | null> = new Map([
  ['True', true],
  ['False', false],
  ['None', null],
  ['true', true],
  ['false', false],
  ['null', null],
]);

/** Single-character escapes of Python string literals. */
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

class LiteralParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    const value = this.parseValue(0);
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail();
    return value;
  }

  private parseValue(depth: number): unknown {
    this.skipSpace();
    const ch: string | undefined = this.text[this.pos];
    switch (ch) {
      case '[':
        return this.parseList(depth + 1);
      case '{':
        return this.parseDict(depth + 1);
      case "'":
      case '"':
        return this.parseString();
      case undefined:
        return this.fail();
    }
    if (ch === '-' || ch === '.' || (ch >= '0' && ch <= '9')) return this.parseNumber();
    return this.parseKeyword();
  }

  private parseList(depth: number): unknown[] {
    if (depth > MAX_DEPTH) this.fail();
    this.pos++; // [
    const items: unknown[] = [];
    while (!this.consumeCloser(']')) {
      items.push(this.parseValue(depth));
      this.consumeSeparator(']');
    }
    return items;
  }

  private parseDict(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) this.fail();
    this.pos++; // {
    const record: Record<string, unknown> = {};
    while (!this.consumeCloser('}')) {
      const key = this.parseValue(depth);
      if (typeof key !== 'string' && typeof key !== 'number') this.fail();
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail();
      this.pos++;
      const value = this.parseValue(depth);
      // defineProperty: a key such as `__proto__` must become data, never the prototype.
      Object.defineProperty(record, String(key), {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.consumeSeparator('}');
    }
    return record;
  }

  /** Consumes `closer` (after whitespace) and says whether it was there. */
  private consumeCloser(closer: string): boolean {
    this.skipSpace();
    if (this.text[this.pos] !== closer) return false;
    this.pos++;
    return true;
  }

  /** After an item: a comma (a trailing one is fine, as in Python), or the closer comes next. */
  private consumeSeparator(closer: string): void {
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === ',') this.pos++;
    else if (ch !== closer) this.fail();
  }

  private parseString(): string {
    const text = this.text;
    const quote = text[this.pos];
    let out = '';
    let chunkStart = ++this.pos;
    for (;;) {
      const ch: string | undefined = text[this.pos];
      if (ch === undefined || ch === '\n' || ch === '\r') this.fail(); // unterminated
      if (ch === quote) {
        out += text.slice(chunkStart, this.pos);
        this.pos++;
        return out;
      }
      if (ch === '\\') {
        out += text.slice(chunkStart, this.pos);
        out += this.parseEscape();
        chunkStart = this.pos;
      } else {
        this.pos++;
      }
    }
  }

  /** At a backslash: consumes the escape sequence and returns the text it stands for. */
  private parseEscape(): string {
    const text = this.text;
    const ch: string | undefined = text[this.pos + 1];
    if (ch === undefined) return this.fail();
    this.pos += 2;
    const simple = SIMPLE_ESCAPES[ch];
    if (simple !== undefined) return simple;
    switch (ch) {
      case '\n':
        return ''; // line continuation
      case '\r':
        if (text[this.pos] === '\n') this.pos++;
        return '';
      case 'x':
        return String.fromCharCode(this.readHex(2));
      case 'u':
        return String.fromCharCode(this.readHex(4));
      case 'U': {
        const code = this.readHex(8);
        if (code > 0x10ffff) this.fail();
        return String.fromCodePoint(code);
      }
      case 'N':
        return this.fail(); // named escapes would need Unicode's name table
    }
    if (ch >= '0' && ch <= '7') {
      let end = this.pos;
      while (end < this.pos + 2 && text[end] >= '0' && text[end] <= '7') end++;
      const code = parseInt(text.slice(this.pos - 1, end), 8);
      this.pos = end;
      return String.fromCharCode(code);
    }
    // Python keeps an unrecognised escape as it is, backslash included.
    return `\\${ch}`;
  }

  private readHex(digits: number): number {
    const hex = this.text.slice(this.pos, this.pos + digits);
    if (hex.length !== digits || !/^[0-9a-fA-F]+$/.test(hex)) this.fail();
    this.pos += digits;
    return parseInt(hex, 16);
  }

  private parseNumber(): number {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) return this.fail();
    this.pos += match[0].length;
    return Number(match[0]);
  }

  private parseKeyword(): boolean | null {
    WORD.lastIndex = this.pos;
    const match = WORD.exec(this.text);
    const value = match === null ? undefined : KEYWORDS.get(match[0]);
    if (match === null || value === undefined) return this.fail();
    this.pos += match[0].length;
    return value;
  }

  private skipSpace(): void {
    const text = this.text;
    let pos = this.pos;
    for (;;) {
      const ch = text[pos];
      if (ch !== ' ' && ch !== '\n' && ch !== '\t' && ch !== '\r') break;
      pos++;
    }
    this.pos = pos;
  }

  private fail(): never {
    throw new LiteralSyntaxError(`invalid Python literal at offset ${this.pos}`);
  }
}
