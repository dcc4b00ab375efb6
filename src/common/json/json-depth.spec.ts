import fc from 'fast-check';
import { exceedsJsonDepth } from './json-depth';

/** Nesting depth of a parsed value, the slow and obvious way. */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (typeof value === 'object' && value !== null) {
    return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  }
  return 0;
}

describe('exceedsJsonDepth', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(exceedsJsonDepth('[[[]]]', 3)).toBe(false);
    expect(exceedsJsonDepth('[[[[]]]]', 3)).toBe(true);
    expect(exceedsJsonDepth('{"a":{"b":{"c":{}}}}', 3)).toBe(true);
    expect(exceedsJsonDepth('["[[[[[[", "{{{{{{"]', 1)).toBe(false);
    expect(exceedsJsonDepth('["\\"[[[[", "\\\\", [[]]]', 2)).toBe(true);
    expect(exceedsJsonDepth('["\\\\\\"[[[["]', 1)).toBe(false);
  });

  it('handles invalid and unterminated text without throwing', () => {
    expect(exceedsJsonDepth('"[[[[[[[[[[', 2)).toBe(false);
    expect(exceedsJsonDepth(']]]]]][[[', 2)).toBe(true);
    expect(exceedsJsonDepth('', 0)).toBe(false);
  });

  it('gives the same answer for latin1-decoded UTF-8 bytes', () => {
    const text = JSON.stringify({ ü: ['日本語 "[[[', [{ é: '\u0000' }]] });
    const bytes = Buffer.from(text, 'utf8').toString('latin1');
    for (const max of [1, 2, 3, 4]) {
      expect(exceedsJsonDepth(bytes, max)).toBe(exceedsJsonDepth(text, max));
    }
  });

  it('agrees with the depth of the parsed value for any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 0, max: 12 }), (v, max) => {
        expect(exceedsJsonDepth(JSON.stringify(v), max)).toBe(depthOf(v) > max);
      }),
      { numRuns: 2000 },
    );
  });

  it('answers in one pass for a deep text of megabytes', () => {
    const deep = '['.repeat(1_500_000) + ']'.repeat(1_500_000);
    expect(exceedsJsonDepth(deep, 32)).toBe(true);
    expect(exceedsJsonDepth(JSON.stringify({ input: 'x'.repeat(3_000_000) }), 32)).toBe(false);
  });
});
