import { Writable } from 'node:stream';
import { resolveLogFormat } from '../config/app-config';
import { configFor } from '../config/testing/config-for';
import { InvalidEnvironmentError } from '../config/validate-environment';
import { createRootLogger } from './root-logger';

/** A destination that keeps what is written, as text. */
function textSink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { stream, text: () => text };
}

describe('LOG_FORMAT', () => {
  it('is auto unless set (pretty at a terminal, json otherwise), and takes only auto, json or pretty', () => {
    const auto = process.stdout.isTTY === true ? 'pretty' : 'json';
    expect(configFor({}).logFormat).toBe(auto);
    expect(configFor({ LOG_FORMAT: '' }).logFormat).toBe(auto);
    expect(configFor({ LOG_FORMAT: 'auto' }).logFormat).toBe(auto);
    expect(configFor({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(configFor({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(() => configFor({ LOG_FORMAT: 'yaml' })).toThrow(InvalidEnvironmentError);
    expect(() => configFor({ LOG_FORMAT: 'yaml' })).toThrow(/LOG_FORMAT .*\(got "yaml"\)/);
  });

  it('auto: pretty lines for a terminal, JSON for anything else', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('json: one JSON object per line, with the context as a field', () => {
    const sink = textSink();
    createRootLogger(configFor({ LOG_FORMAT: 'json' }), sink.stream).info(
      { context: 'Ctx' },
      'hello',
    );
    const line = JSON.parse(sink.text()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, context: 'Ctx', msg: 'hello' });
  });

  it('pretty: one readable line with the level, the context and the message, secrets redacted', () => {
    const sink = textSink();
    const logger = createRootLogger(configFor({ LOG_FORMAT: 'pretty' }), sink.stream);
    logger.warn({ context: 'Ctx', upstream: { apiKey: 'k-secret' } }, 'hello');
    const text = sink.text();
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: \[Ctx\] hello /);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(text).not.toContain('k-secret');
    expect(text).not.toMatch(/^\{/);
  });

  it("pretty: a request's line says its method, URL, status and time, and keeps its id", () => {
    const sink = textSink();
    const logger = createRootLogger(configFor({ LOG_FORMAT: 'pretty' }), sink.stream);
    logger.info(
      {
        reqId: 'r-1',
        req: { method: 'GET', url: '/api/x' },
        res: { statusCode: 200 },
        responseTime: 3,
      },
      'request completed',
    );
    expect(sink.text()).toContain('INFO: request completed GET /api/x 200 (3 ms) {"reqId":"r-1"}');
  });
});
