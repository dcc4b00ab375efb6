import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import PinoPretty from 'pino-pretty';
import type { AppConfig } from '../config/app-config';
import { CENSOR, REDACTED_PATHS } from './redaction';

/** The injection token of the process's one pino logger; every log line goes through it. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

export type RootLogger = Logger;

type LogSettings = Pick<AppConfig, 'logLevel' | 'logFormat'>;

/**
 * The pino logger every line is written by: Nest's `Logger` (through `AppLogger`) and the
 * request logger are views of it. `destination` is stdout unless a test reads the lines.
 */
export function createRootLogger(config: LogSettings, destination?: DestinationStream): RootLogger {
  const options: LoggerOptions = {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
  };
  if (config.logFormat === 'pretty') return pino(options, prettyStream(destination));
  return destination ? pino(options, destination) : pino(options);
}

/**
 * `LOG_FORMAT=pretty`: one readable line per entry, `[context]` before the message. In this
 * thread and synchronous, not as a worker transport: the lines written just before the process
 * exits (a startup error) must not be lost.
 */
function prettyStream(destination: DestinationStream | undefined): DestinationStream {
  return PinoPretty({
    destination: destination ?? 1,
    sync: true,
    // A terminal gets colours (unless NO_COLOR); a test's stream never does.
    ...(destination ? { colorize: false } : {}),
    translateTime: 'SYS:HH:MM:ss.l',
    // A request's line: its method, URL, status and time instead of the whole request.
    ignore: 'pid,hostname,context,req,res,responseTime',
    messageFormat:
      '{if context}[{context}] {end}{msg}' +
      '{if req} {req.method} {req.url} {res.statusCode} ({responseTime} ms){end}',
    singleLine: true,
  });
}
