import { pyRepr } from '../../test/fake-hermes/text-formats';
import {
  ContentBlock,
  flattenBlocks,
  flattenInput,
  flattenStoredInput,
  normaliseAssistantContent,
  parseContentArray,
  parseStoredUserBlocks,
  previewText,
  storedUserContent,
} from './content-blocks';
import { MAX_DEPTH, parsePythonLiteral } from './python-literal';

const TEXT_HI = [{ type: 'text', text: 'hi' }];

describe('parsePythonLiteral', () => {
  const value = (text: string): unknown => {
    const result = parsePythonLiteral(text);
    if (!result.ok) throw new Error(`not parsed: ${text}`);
    return result.value;
  };

  it('reads repr() output: quotes, keywords, numbers, nesting, trailing commas', () => {
    expect(
      value(
        `[{'a': 'x', "b": "it's", 'c': True, 'd': False, 'e': None, 'n': [1, -2.5, 3e2, .5], 'm': {'k': []},}]`,
      ),
    ).toEqual([
      { a: 'x', b: "it's", c: true, d: false, e: null, n: [1, -2.5, 300, 0.5], m: { k: [] } },
    ]);
    expect(value(' {"t": true, "f": false, "z": null} ')).toEqual({ t: true, f: false, z: null });
  });

  it("decodes Python's escapes", () => {
    expect(value(String.raw`'a\'b\"c\\d\n\t\r'`)).toBe('a\'b"c\\d\n\t\r');
    expect(value(String.raw`'\x41\u00e9\U0001F600\101\0'`)).toBe('Aé😀A\0');
    expect(value(String.raw`'\a\b\f\v'`)).toBe('\x07\b\f\v');
    // Unknown escapes stay as written; a backslash-newline is a line continuation.
    expect(value(String.raw`'\d\w'`)).toBe('\\d\\w');
    expect(value("'ab\\\ncd'")).toBe('abcd');
  });

  it('reads back what the fake upstream prints with repr()', () => {
    const samples: unknown[] = [
      [{ type: 'text', text: `quote ' and "both"`, cached: true, x: null }],
      [{ type: 'text', text: "only ' single" }],
      [{ type: 'text', text: 'tab\tnl\ncr\rbell\x07del\x7f back\\slash é 😀' }],
      { nested: [[1, 2.25], { deep: [false, null] }] },
    ];
    for (const sample of samples) expect(value(pyRepr(sample))).toEqual(sample);
  });

  it.each([
    ['unterminated string', "['abc]"],
    ['unterminated list', '[1, 2'],
    ['raw newline in a string', "['a\nb']"],
    ['missing comma', '[1 2]'],
    ['missing colon', "{'a' 1}"],
    ['non-string key', '{[1]: 2}'],
    ['trailing text', '[1] x'],
    ['a name', '[os]'],
    ['a call', "[__import__('os')]"],
    ['a tuple', '(1, 2)'],
    ['a prefixed string', "[b'x']"],
    ['a named escape', String.raw`['\N{BULLET}']`],
    ['a short hex escape', String.raw`['\x4']`],
    ['an out-of-range code point', String.raw`['\U00110000']`],
    ['a lone backslash at the end', "['\\"],
    ['empty input', '   '],
  ])('rejects %s', (_label, text) => {
    expect(parsePythonLiteral(text)).toEqual({ ok: false });
  });

  it('rejects nesting deeper than MAX_DEPTH without exhausting the stack', () => {
    const ok = `${'['.repeat(MAX_DEPTH)}None${']'.repeat(MAX_DEPTH)}`;
    expect(parsePythonLiteral(ok).ok).toBe(true);
    const deep = `${'['.repeat(100_000)}None${']'.repeat(100_000)}`;
    expect(parsePythonLiteral(deep)).toEqual({ ok: false });
  });

  it('keeps a __proto__ key as data', () => {
    const parsed = value("{'__proto__': {'polluted': True}}") as Record<string, unknown>;
    expect(Object.prototype.hasOwnProperty.call(parsed, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseContentArray', () => {
  it('parses a JSON block array, ignoring surrounding whitespace', () => {
    expect(parseContentArray(JSON.stringify(TEXT_HI))).toEqual(TEXT_HI);
    expect(parseContentArray(`\n  ${JSON.stringify(TEXT_HI)}  \n`)).toEqual(TEXT_HI);
  });

  it('parses a Python-literal block array with escapes, quotes, True/None and nesting', () => {
    const text = String.raw`[{'type': 'text', 'text': 'it\'s "fine"\n', 'cached': True, 'x': None}, {'type': 'tool_use', 'id': 'tu_1', 'name': 'calc', 'input': {'xs': [1, 2.5], 'opt': {'on': False}}}]`;
    expect(parseContentArray(text)).toEqual([
      { type: 'text', text: 'it\'s "fine"\n', cached: true, x: null },
      { type: 'tool_use', id: 'tu_1', name: 'calc', input: { xs: [1, 2.5], opt: { on: false } } },
    ]);
  });

  it('parses double-serialised arrays', () => {
    const json = JSON.stringify(TEXT_HI);
    // A JSON string whose value is the array (also twice over).
    expect(parseContentArray(JSON.stringify(json))).toEqual(TEXT_HI);
    expect(parseContentArray(JSON.stringify(JSON.stringify(json)))).toEqual(TEXT_HI);
    // The array in bare outer quotes, JSON or Python inside.
    expect(parseContentArray(`"${json}"`)).toEqual(TEXT_HI);
    expect(parseContentArray(`"[{'type': 'text', 'text': 'hi'}]"`)).toEqual(TEXT_HI);
    // A Python repr of the JSON text.
    expect(parseContentArray(pyRepr(json))).toEqual(TEXT_HI);
    expect(parseContentArray(`  ${JSON.stringify(pyRepr(TEXT_HI))} `)).toEqual(TEXT_HI);
  });

  it.each([
    ['a footnote', '[1] see note'],
    ['a markdown link', '[link](url)'],
    ['a bracketed aside', '[aside] and [another]'],
    ['an empty array', '[]'],
    ['an array of numbers', '[1, 2]'],
    ['an array of strings', '["a", \'b\']'],
    ['objects without a type', '[{"kind": "text"}]'],
    ['a non-string type', '[{"type": 1}]'],
    ['a mix of blocks and other values', '[{"type": "text", "text": "a"}, 2]'],
    ['a quoted sentence', '"Hello," she said, "bye"'],
    ['a quoted word', '"quoted"'],
    ['a quoted non-array', '"[not json"'],
    ['plain text', 'hello [x]'],
    ['empty text', ''],
    ['blank text', '  \n '],
  ])('returns null for %s', (_label, text) => {
    expect(parseContentArray(text)).toBeNull();
  });

  it.each([
    ['trailing text', "[{'type': 'text', 'text': 'hi'}] trailing"],
    ['a missing comma', "[{'type': 'text' 'text': 'hi'}]"],
    ['a bare name', "[{type: 'text'}]"],
    ['an expression', "[{'type': __import__('os').system('x')}]"],
    ['an extra bracket', "[{'type': 'text', 'text': 'a'}]]"],
    ['an unterminated string', "[{'type': 'text', 'text': 'hi}]"],
    ['an unterminated array', "[{'type': 'text', 'text': 'hi'}"],
    ['an unterminated object', '[{"type": "text", "text": "hi"]'],
    ['an unterminated quoted array', '"[{\\"type\\": \\"text\\"}]'],
  ])('returns null for garbage: %s', (_label, text) => {
    expect(parseContentArray(text)).toBeNull();
  });

  it('does not parse at all unless the text starts with [ or a quote and ends to match', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      expect(parseContentArray(`hello ${JSON.stringify(TEXT_HI)}`)).toBeNull();
      expect(parseContentArray('[1] see note')).toBeNull();
      expect(parseContentArray('"open quote only')).toBeNull();
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });
});

describe('normaliseAssistantContent', () => {
  it('joins text blocks, collects thinking as reasoning and tool_use as tool calls', () => {
    const text = JSON.stringify([
      { type: 'thinking', thinking: 'first thought' },
      { type: 'text', text: 'Hello ' },
      { type: 'tool_use', id: 'tu_1', name: 'search', input: { q: 'cats' } },
      { type: 'thinking', thinking: 'second thought' },
      { type: 'text', text: 'world' },
      { type: 'image', source: {} },
    ]);
    expect(normaliseAssistantContent(text)).toEqual({
      content: 'Hello world',
      reasoning: 'first thought\n\nsecond thought',
      toolCalls: [
        { id: 'tu_1', type: 'function', function: { name: 'search', arguments: '{"q":"cats"}' } },
      ],
    });
  });

  it('fills in tool_use blocks without id or input', () => {
    const text = pyRepr([
      { type: 'text', text: 'x' },
      { type: 'tool_use', name: 'now' },
      { type: 'tool_use', id: 'tu_9', name: 'raw', input: 'already a string' },
    ]);
    expect(normaliseAssistantContent(text).toolCalls).toEqual([
      { id: 'toolu_1', type: 'function', function: { name: 'now', arguments: '{}' } },
      { id: 'tu_9', type: 'function', function: { name: 'raw', arguments: 'already a string' } },
    ]);
  });

  it('normalises a double-serialised array (defect 9)', () => {
    const text = JSON.stringify(JSON.stringify([{ type: 'text', text: 'double' }]));
    expect(normaliseAssistantContent(text)).toEqual({
      content: 'double',
      reasoning: null,
      toolCalls: [],
    });
  });

  it('passes plain text through unchanged', () => {
    for (const text of ['Hello', '[1] see note', '  spaced  ', '"quoted"', '']) {
      expect(normaliseAssistantContent(text)).toEqual({
        content: text,
        reasoning: null,
        toolCalls: [],
      });
    }
  });
});

describe('input blocks', () => {
  const blocks: ContentBlock[] = [
    { type: 'text', text: 'Look at this' },
    { type: 'image', name: 'a.png', path: '/tmp/a.png', media_type: 'image/png' },
    { type: 'file', name: 'b.pdf', path: '/tmp/b.pdf' },
    { type: 'text', text: 'and this' },
  ];

  it('flattens blocks for the upstream, one per line, attachments by path', () => {
    expect(flattenInput(blocks)).toBe(
      'Look at this\n[Image: /tmp/a.png]\n[File: /tmp/b.pdf]\nand this',
    );
    expect(flattenInput('just text')).toBe('just text');
  });

  it('flattens untrusted blocks defensively', () => {
    expect(
      flattenBlocks([
        { type: 'image', name: 'only-name.png' },
        { type: 'file' },
        { type: 'note', text: 'kept' },
        { type: 'mystery' },
      ]),
    ).toBe('[Image: only-name.png]\n[File: ]\nkept');
  });

  it('previews only the text blocks', () => {
    expect(previewText(blocks)).toBe('Look at this\nand this');
    expect(previewText('plain')).toBe('plain');
  });

  it('stores blocks as their JSON and reads them back', () => {
    const stored = storedUserContent(blocks);
    expect(stored).toBe(JSON.stringify(blocks));
    expect(parseStoredUserBlocks(stored)).toEqual(blocks);
    expect(flattenStoredInput(stored)).toBe(flattenInput(blocks));
    expect(storedUserContent('plain [1]')).toBe('plain [1]');
  });

  it('treats stored text that is not a block array as text', () => {
    for (const text of [
      'plain',
      '[1, 2]',
      '[]',
      '[not json]',
      "[{'type': 'text', 'text': 'py'}]",
    ]) {
      expect(parseStoredUserBlocks(text)).toBeNull();
      expect(flattenStoredInput(text)).toBe(text);
    }
  });
});
