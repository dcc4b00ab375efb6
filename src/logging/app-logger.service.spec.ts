import { Logger } from '@nestjs/common';
import { configFor } from '../config/testing/config-for';
import { AppLogger } from './app-logger.service';
import { createRootLogger } from './root-logger';
import { LogLines } from './testing/log-lines';

/** Nest's `Logger` as the code uses it, writing through an AppLogger into `sink`. */
function nestLoggerInto(sink: LogLines, level = 'trace'): Logger {
  Logger.overrideLogger(new AppLogger(createRootLogger(configFor({ LOG_LEVEL: level }), sink)));
  return new Logger('Ctx');
}

describe('AppLogger', () => {
  afterEach(() => Logger.overrideLogger(false));

  it("maps Nest's levels to pino's and writes the context as a field", () => {
    const sink = new LogLines();
    const logger = nestLoggerInto(sink);
    logger.verbose('v');
    logger.debug('d');
    logger.log('l');
    logger.warn('w');
    logger.error('e');
    logger.fatal('f');
    expect(sink.lines.map((line) => [line.level, line.msg, line.context])).toEqual([
      [10, 'v', 'Ctx'],
      [20, 'd', 'Ctx'],
      [30, 'l', 'Ctx'],
      [40, 'w', 'Ctx'],
      [50, 'e', 'Ctx'],
      [60, 'f', 'Ctx'],
    ]);
    expect(sink.lines.every((line) => !('details' in line))).toBe(true);
  });

  it("writes Nest's own startup lines at debug", () => {
    const sink = new LogLines();
    nestLoggerInto(sink);
    new Logger('InstanceLoader').log('AppModule dependencies initialized');
    new Logger('RouterExplorer').log('Mapped {/api/health, GET} route');
    new Logger('NestApplication').error('listen EADDRINUSE');
    expect(sink.lines.map((line) => [line.level, line.context])).toEqual([
      [20, 'InstanceLoader'],
      [20, 'RouterExplorer'],
      [50, 'NestApplication'],
    ]);
  });

  it('writes nothing below LOG_LEVEL', () => {
    const sink = new LogLines();
    const logger = nestLoggerInto(sink, 'warn');
    logger.log('quiet');
    logger.debug('quieter');
    logger.warn('heard');
    expect(sink.lines.map((line) => line.msg)).toEqual(['heard']);
  });

  it('merges an object into the line, redacting secrets, and serializes an error', () => {
    const sink = new LogLines();
    const logger = nestLoggerInto(sink);
    logger.error(
      { errorId: 'e1', err: new Error('boom'), upstream: { token: 'secret' } },
      'Unexpected error',
    );
    logger.warn(new Error('plain'));
    const [merged, plain] = sink.lines;
    expect(merged).toMatchObject({
      msg: 'Unexpected error',
      errorId: 'e1',
      upstream: { token: '[redacted]' },
    });
    expect(merged.err).toMatchObject({ type: 'Error', message: 'boom' });
    expect(plain).toMatchObject({ level: 40, msg: 'plain', context: 'Ctx' });
    expect(plain.err).toMatchObject({ message: 'plain' });
  });

  it('redacts a secret at the top of the line and in the extra arguments', () => {
    const sink = new LogLines();
    const logger = nestLoggerInto(sink);
    logger.warn({ token: 'top-secret', apiKey: 'k' }, 'merged');
    logger.log('with details', { password: 'pw', user: 'ada' });
    const [merged, withDetails] = sink.lines;
    expect(merged).toMatchObject({ token: '[redacted]', apiKey: '[redacted]' });
    expect(withDetails.details).toEqual([{ password: '[redacted]', user: 'ada' }]);
    expect(JSON.stringify(sink.lines)).not.toMatch(/top-secret|"pw"|"k"/);
  });

  it("keeps the stack Nest's exception handlers pass after the message", () => {
    const sink = new LogLines();
    const logger = nestLoggerInto(sink);
    const stack = new Error('crash').stack;
    logger.error('crash', stack);
    logger.log('with', { extra: 1 });
    expect(sink.lines[0]).toMatchObject({ msg: 'crash', err: { stack } });
    expect(sink.lines[1]).toMatchObject({ msg: 'with', details: [{ extra: 1 }] });
  });
});
