/**
 * How deep a JSON text nests, found without parsing it: parsing (and then walking) deeply nested
 * input is what costs, so a nesting limit must be checked before either. One pass over the
 * structure; string literals are skipped with `indexOf`, so long texts cost little. The text
 * need not be valid JSON (whatever the parser says about it afterwards stands).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_SQUARE = 0x5b;
const CLOSE_SQUARE = 0x5d;
const OPEN_CURLY = 0x7b;
const CLOSE_CURLY = 0x7d;

/**
 * True when arrays and objects in `text` nest more than `maxDepth` levels (`[]` is one level).
 * For bytes, decode as `latin1` first: every byte stays one character, and no byte of a
 * multi-byte UTF-8 character is ASCII, so the answer is the same as for the UTF-8 text.
 */
export function exceedsJsonDepth(text: string, maxDepth: number): boolean {
  // Nesting deeper than maxDepth needs more than maxDepth opening brackets.
  if (text.length <= maxDepth) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = closingQuote(text, i);
    } else if (code === OPEN_SQUARE || code === OPEN_CURLY) {
      if (++depth > maxDepth) return true;
    } else if ((code === CLOSE_SQUARE || code === CLOSE_CURLY) && depth > 0) {
      // Never below zero: stray closers cannot buy room for deeper nesting after them.
      depth--;
    }
  }
  return false;
}

/** Index of the quote that ends the string literal opened at `open` (the end if unterminated). */
function closingQuote(text: string, open: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}
