import { makePreview, makeSnippet, parseToolCalls } from './session.mapper';
import type { ToolCall } from './session.types';

const call = (id: string, name: string): ToolCall => ({
  id,
  type: 'function',
  function: { name, arguments: '{"q":"x"}' },
});

describe('makePreview', () => {
  it('folds newlines and runs of whitespace into single spaces', () => {
    expect(makePreview('  Hello\n\n  world\r\n\tagain  ')).toBe('Hello world again');
  });

  it('cuts to 100 characters', () => {
    const preview = makePreview(`${'a'.repeat(99)}\nbcdef`);
    expect(preview).toBe(`${'a'.repeat(99)} `);
    expect(makePreview('x'.repeat(500))).toHaveLength(100);
  });

  it('keeps a short text whole', () => {
    expect(makePreview('How do I rotate logs?')).toBe('How do I rotate logs?');
  });
});

describe('makeSnippet', () => {
  const before = 'alpha '.repeat(40);
  const after = ' omega'.repeat(40);
  const text = `${before}Needle${after}`;

  it('windows around a case-insensitive match with ellipses on both sides', () => {
    const snippet = makeSnippet(text, 'nEEDLE', 40);
    expect(snippet.startsWith('…')).toBe(true);
    expect(snippet.endsWith('…')).toBe(true);
    expect(snippet).toContain('Needle');
    expect(snippet.slice(1, -1)).toHaveLength(40);
    // Roughly centred on the match.
    const at = snippet.indexOf('Needle') - 1;
    expect(Math.abs(at - (40 - at - 'Needle'.length))).toBeLessThanOrEqual(1);
  });

  it('has no leading ellipsis for a match at the start', () => {
    const snippet = makeSnippet(`Needle${after}`, 'needle', 40);
    expect(snippet).toBe(`Needle${after}`.slice(0, 40) + '…');
  });

  it('has no trailing ellipsis for a match at the end', () => {
    const flat = `${before}Needle`;
    const snippet = makeSnippet(flat, 'needle', 40);
    expect(snippet).toBe(`…${flat.slice(-40)}`);
  });

  it('folds whitespace before windowing', () => {
    expect(makeSnippet('find\n\nthe   needle\there', 'NEEDLE')).toBe('find the needle here');
  });

  it('returns the start of the text when nothing matches', () => {
    expect(makeSnippet(text, 'absent', 30)).toBe(text.slice(0, 30));
  });

  it('returns a short text whole', () => {
    expect(makeSnippet('short text with a needle', 'needle')).toBe('short text with a needle');
  });
});

describe('parseToolCalls', () => {
  it('reads stored tool calls', () => {
    const calls = [call('c1', 'search'), call('c2', 'read_file')];
    expect(parseToolCalls(JSON.stringify(calls))).toEqual(calls);
  });

  it.each([
    ['null', null],
    ['an empty string', ''],
    ['invalid JSON', '[{"id":'],
    ['a JSON object', '{"id":"c1","function":{"name":"f"}}'],
    ['a JSON string', '"[]"'],
    ['JSON null', 'null'],
  ])('reads %s as no tool calls', (_label, raw) => {
    expect(parseToolCalls(raw)).toBeNull();
  });

  it('drops malformed entries and keeps the well-formed ones', () => {
    const good = call('c3', 'ok');
    const raw = JSON.stringify([
      1,
      null,
      'c1',
      { id: 'c1' },
      { id: 7, function: { name: 'f' } },
      { id: 'c2', function: null },
      { id: 'c2', function: { name: 3 } },
      good,
    ]);
    expect(parseToolCalls(raw)).toEqual([good]);
  });

  it('reads an empty array as an empty list', () => {
    expect(parseToolCalls('[]')).toEqual([]);
  });
});
