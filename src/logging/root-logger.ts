import { pino, type DestinationStream, type Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { CENSOR, REDACTED_PATHS } from './redaction';

/** The injection token of the process's one pino logger; every log line goes through it. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

export type RootLogger = Logger;

/**
 * The pino logger every line is written by: Nest's `Logger` (through {@link AppLogger}) and the
 * request logger are views of it. `destination` is stdout unless a test reads the lines.
 */
export function createRootLogger(
  config: Pick<AppConfig, 'logLevel'>,
  destination?: DestinationStream,
): RootLogger {
  const options = { level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: CENSOR } };
  return destination ? pino(options, destination) : pino(options);
}
