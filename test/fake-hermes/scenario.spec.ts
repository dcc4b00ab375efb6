import { buildRunScript } from './run-script';
import {
  DEFAULT_SCENARIO,
  extractDirectives,
  parseScenarioJson,
  parseScenarioSpec,
  resolveScenario,
  ScenarioError,
} from './scenario';
import { SseParser, type SseItem } from './sse-reader';
import { formatText, pyRepr } from './text-formats';

describe('scenario spec grammar', () => {
  it('parses presets, flags and key:value items', () => {
    expect(parseScenarioSpec('tools')).toEqual({ preset: ['tools'] });
    expect(parseScenarioSpec('deltas:200, interval=20')).toEqual({ deltas: 200, intervalMs: 20 });
    expect(parseScenarioSpec('scenario:tools+reasoning,forget,ignoreStop')).toEqual({
      preset: ['tools', 'reasoning'],
      forgetRunAfterDrop: true,
      ignoreStop: true,
    });
    expect(parseScenarioSpec('fail:3,error:it broke')).toEqual({
      fail: { afterDeltas: 3, error: 'it broke' },
    });
    expect(parseScenarioSpec('text:w{i}|,python:hey,drop:4,create:503')).toEqual({
      deltaText: 'w{i}|',
      pythonContentArrayDelta: 'hey',
      dropStreamAfter: 4,
      createStatus: 503,
    });
    expect(parseScenarioSpec('{"deltas":1,"tools":[{"name":"t","tool_call_id":"c1"}]}')).toEqual({
      deltas: 1,
      tools: [{ name: 't', toolCallId: 'c1' }],
    });
  });

  it('rejects unknown keys, bad values and unknown presets', () => {
    expect(() => parseScenarioSpec('bogus:1')).toThrow(ScenarioError);
    expect(() => parseScenarioSpec('nonsense')).toThrow(/unknown scenario key/);
    expect(() => parseScenarioSpec('deltas:abc')).toThrow(/deltas must be an integer/);
    expect(() => parseScenarioSpec('scenario:nope')).toThrow(/unknown scenario preset "nope"/);
    expect(() => parseScenarioSpec('{"deltas": 1,')).toThrow(/does not parse/);
    expect(() => parseScenarioSpec('create:200')).toThrow(/createStatus/);
  });

  it('validates untrusted JSON and reports every problem', () => {
    expect(() => parseScenarioJson([1])).toThrow(ScenarioError);
    let message = '';
    try {
      parseScenarioJson({
        deltas: -1,
        intervalMs: 'x',
        extra: true,
        tools: [{ preview: 'p' }],
        usage: { a: 1.5 },
      });
    } catch (err: unknown) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/deltas must be an integer/);
    expect(message).toMatch(/intervalMs must be an integer/);
    expect(message).toMatch(/unknown scenario field "extra"/);
    expect(message).toMatch(/tools\[0\]\.name must be a string/);
    expect(message).toMatch(/usage\.a must be an integer/);
    expect(() => parseScenarioJson({ approval: { afterDeltas: 1, sneaky: 1 } })).toThrow(
      /approval\.sneaky/,
    );
  });
});

describe('input directives', () => {
  it('finds [[…]] blocks, including JSON ones holding ]]', () => {
    expect(extractDirectives('no directives here [x]')).toEqual([]);
    expect(extractDirectives('hi [[scenario:tools]] and [[deltas:2,interval:20]]')).toEqual([
      { preset: ['tools'] },
      { deltas: 2, intervalMs: 20 },
    ]);
    expect(extractDirectives('x [[ {"statusMessages":["a]]b"]} ]] y')).toEqual([
      { statusMessages: ['a]]b'] },
    ]);
  });

  it('throws on malformed directives', () => {
    expect(() => extractDirectives('[[deltas:1')).toThrow(/unterminated/);
    expect(() => extractDirectives('[[{"deltas":1} x]]')).toThrow(/must end with/);
  });
});

describe('resolveScenario', () => {
  it('merges layers over the defaults, later wins, presets first within a layer', () => {
    const s = resolveScenario({ intervalMs: 3 }, 'tools,deltas:1', { preset: 'fail', deltas: 4 });
    expect(s.intervalMs).toBe(3);
    expect(s.deltas).toBe(4);
    expect(s.tools).toHaveLength(2);
    expect(s.fail).toEqual({ afterDeltas: 2, error: 'fake-hermes: model provider error' });
    expect(s.name).toBe('tools+fail');
    expect(resolveScenario()).toEqual(DEFAULT_SCENARIO);
    expect(resolveScenario({ doubleSerialisedOutput: true }).outputFormat).toBe(
      'double-json-array',
    );
    expect(resolveScenario({ fail: 'x' }).fail).toEqual({ afterDeltas: 1, error: 'x' });
  });
});

describe('run scripts', () => {
  it('orders hooks, deltas and the terminal step', () => {
    const scenario = resolveScenario({
      deltas: 3,
      approval: 1,
      tools: 1,
      toolsAfterDeltas: 1,
      garbageLines: 1,
    });
    const kinds = buildRunScript(scenario, 8).steps.map((s) =>
      s.kind === 'event' ? s.event : s.kind,
    );
    expect(kinds).toEqual([
      'delta',
      'garbage',
      'approval',
      'tool.started',
      'tool.completed',
      'delta',
      'delta',
      'complete',
    ]);
  });

  it('stops at the failure point and computes usage', () => {
    const script = buildRunScript(resolveScenario({ deltas: 5, fail: 2 }), 9);
    expect(script.steps.map((s) => s.kind)).toEqual(['delta', 'delta', 'fail']);
    expect(script.usage).toEqual({ input_tokens: 3, output_tokens: 5, total_tokens: 8 });
    const custom = buildRunScript(
      resolveScenario({ usage: { input_tokens: 10, cache_read_tokens: 4 } }),
      1,
    );
    expect(custom.usage).toEqual({
      input_tokens: 10,
      cache_read_tokens: 4,
      output_tokens: 5,
      total_tokens: 15,
    });
  });
});

describe('text formats', () => {
  it('writes Python literals as repr() does', () => {
    expect(pyRepr([{ type: 'text', text: 'hi', cached: true, x: null, n: 2 }])).toBe(
      "[{'type': 'text', 'text': 'hi', 'cached': True, 'x': None, 'n': 2}]",
    );
    expect(pyRepr("it's")).toBe('"it\'s"');
    expect(pyRepr('both \' and "')).toBe("'both \\' and \"'");
    expect(pyRepr('a\nb\\')).toBe("'a\\nb\\\\'");
    expect(pyRepr(false)).toBe('False');
  });

  it('formats content-block arrays', () => {
    expect(formatText('a', 'json-array')).toBe('[{"type":"text","text":"a"}]');
    expect(formatText('a', 'python-array')).toBe("[{'type': 'text', 'text': 'a'}]");
    expect(formatText('a', 'double-json-array')).toBe(
      '"[{\\"type\\":\\"text\\",\\"text\\":\\"a\\"}]"',
    );
  });
});

describe('SseParser', () => {
  function parseAll(chunks: string[]): SseItem[] {
    const items: SseItem[] = [];
    const parser = new SseParser((item) => items.push(item));
    for (const chunk of chunks) parser.push(chunk);
    return items;
  }

  it('parses data, comments, multi-line data and event/id fields with any line ending', () => {
    const text =
      ': hello\r\ndata: a\r\ndata:b\r\n\r\nevent: x\nid: 7\ndata: {"k":1}\n\ndata: c\r\rdata: incomplete';
    const expected: SseItem[] = [
      { kind: 'comment', text: 'hello' },
      { kind: 'data', data: 'a\nb' },
      { kind: 'data', data: '{"k":1}', event: 'x', id: '7' },
      { kind: 'data', data: 'c', id: '7' },
    ];
    expect(parseAll([text])).toEqual(expected);
    // The same bytes split at every position give the same items.
    for (let i = 1; i < text.length; i++)
      expect(parseAll([text.slice(0, i), text.slice(i)])).toEqual(expected);
  });
});
