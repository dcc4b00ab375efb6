import { HermesRunEvent, isTerminalEvent, parseHermesEvent } from './hermes-events';

const frame = (event: Record<string, unknown>): string =>
  JSON.stringify({ run_id: 'run_1', timestamp: 1.5, ...event });

function parse(event: Record<string, unknown>): HermesRunEvent {
  const parsed = parseHermesEvent(frame(event));
  if (!parsed) throw new Error('expected an event');
  return parsed;
}

describe('parseHermesEvent', () => {
  it('returns null for anything that is not a JSON object with an event name', () => {
    for (const data of [
      '',
      'hello',
      '{broken',
      '[1]',
      '42',
      'null',
      '{}',
      '{"event": 3}',
      '{"event": ""}',
    ]) {
      expect(parseHermesEvent(data)).toBeNull();
    }
  });

  it('types known events and keeps every upstream field', () => {
    const event = parse({ event: 'message.delta', delta: 'Hi', extra: { nested: true } });
    expect(event.type).toBe('message.delta');
    if (event.type !== 'message.delta') throw new Error('narrowing');
    expect(event.payload.delta).toBe('Hi');
    expect(event.payload).toEqual({
      event: 'message.delta',
      run_id: 'run_1',
      timestamp: 1.5,
      delta: 'Hi',
      extra: { nested: true },
    });
  });

  it('passes unknown event types through as `other`, untouched', () => {
    const event = parse({ event: 'subagent.start', goal: 'x' });
    expect(event).toEqual({
      type: 'other',
      payload: { event: 'subagent.start', run_id: 'run_1', timestamp: 1.5, goal: 'x' },
    });
  });

  it('demotes a known non-terminal event with a malformed required field to `other`', () => {
    expect(parse({ event: 'message.delta', delta: 5 }).type).toBe('other');
    expect(parse({ event: 'reasoning.available' }).type).toBe('other');
    expect(parse({ event: 'tool.started' }).type).toBe('other');
  });

  it('accepts `name` as the tool name of older upstreams', () => {
    const event = parse({ event: 'tool.started', name: 'terminal' });
    expect(event.type === 'tool.started' && event.payload.tool).toBe('terminal');
  });

  it('drops malformed optional fields and encodes non-string outputs', () => {
    const tool = parse({
      event: 'tool.completed',
      tool: 'read_file',
      duration: 'slow',
      error: false,
      output: { lines: 3 },
    });
    expect(tool.payload).toEqual({
      event: 'tool.completed',
      run_id: 'run_1',
      timestamp: 1.5,
      tool: 'read_file',
      error: false,
      output: '{"lines":3}',
    });
    const approval = parse({
      event: 'approval.request',
      choices: ['once', 1],
      command: 'rm -rf /',
    });
    expect(approval.type === 'approval.request' && approval.payload.choices).toBeUndefined();
    expect(approval.type === 'approval.request' && approval.payload.command).toBe('rm -rf /');
  });

  it('never demotes terminal events, repairing their fields instead', () => {
    const failed = parse({ event: 'run.failed', error: { message: 'quota' } });
    expect(failed.type).toBe('run.failed');
    expect(failed.type === 'run.failed' && failed.payload.error).toBe('{"message":"quota"}');
    expect(parse({ event: 'run.failed' }).payload['error']).toBe('run failed');

    const completed = parse({ event: 'run.completed', output: null, usage: 'lots' });
    expect(completed.type).toBe('run.completed');
    expect(completed.payload).not.toHaveProperty('output');
    expect(completed.payload).not.toHaveProperty('usage');

    const withUsage = parse({
      event: 'run.completed',
      output: '[{"type":"text","text":"hi"}]',
      usage: { input_tokens: 10, output_tokens: 2, total_tokens: 12, cache_read_tokens: 4 },
    });
    expect(withUsage.type === 'run.completed' && withUsage.payload.usage).toEqual({
      input_tokens: 10,
      output_tokens: 2,
      total_tokens: 12,
      cache_read_tokens: 4,
    });
    expect(withUsage.type === 'run.completed' && withUsage.payload.output).toBe(
      '[{"type":"text","text":"hi"}]',
    );
  });

  it('fills a missing run_id and timestamp', () => {
    const event = parseHermesEvent('{"event":"run.cancelled"}', 'run_9');
    expect(event?.payload.run_id).toBe('run_9');
    expect(typeof event?.payload.timestamp).toBe('number');
  });

  it('recognises the three terminal events', () => {
    const types = ['run.completed', 'run.failed', 'run.cancelled', 'message.delta', 'run.steered'];
    expect(types.map((type) => isTerminalEvent(parse({ event: type, delta: '' })))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it('keeps reasoning text in `text` or `delta`', () => {
    const reasoning = parse({ event: 'reasoning.delta', text: 'hmm' });
    const thinking = parse({ event: 'thinking.delta', delta: 'hmm', text: 7 });
    expect(reasoning.type === 'reasoning.delta' && reasoning.payload.text).toBe('hmm');
    expect(thinking.type === 'thinking.delta' && thinking.payload).toMatchObject({ delta: 'hmm' });
    expect(thinking.payload).not.toHaveProperty('text');
  });
});
