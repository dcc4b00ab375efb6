import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import type { Level } from 'pino';
import { ROOT_LOGGER, type RootLogger } from './root-logger';

/**
 * Nest's own startup chatter (modules loaded, routes and socket handlers mapped, "successfully
 * started"): useful when debugging the wiring, noise for an operator, so debug instead of info.
 */
const FRAMEWORK_CONTEXTS = new Set([
  'NestFactory',
  'NestApplication',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'WebSocketsController',
]);

type Fields = Record<string, unknown>;

/**
 * Nest's `LoggerService` over the root pino logger, so that `new Logger('Context')` anywhere in
 * the code writes structured lines: Nest's levels become pino's (`verbose` is `trace`) and the
 * context becomes a `context` field. Nest passes the context as the last argument, and an
 * error's stack (if any) before it. Nest's own info lines are written at debug.
 *
 * ```ts
 * new Logger('Database').log('Applied migrations');
 * // → {"level":30,"context":"Database","msg":"Applied migrations",...}
 * logger.error({ errorId, err }, 'Unexpected error');   // the object's fields are merged in
 * ```
 */
@Injectable()
export class AppLogger implements LoggerService {
  constructor(@Inject(ROOT_LOGGER) private readonly root: RootLogger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(requested: Level, message: unknown, params: unknown[]): void {
    const last = params.at(-1);
    const context = typeof last === 'string' ? last : undefined;
    const level =
      requested === 'info' && context !== undefined && FRAMEWORK_CONTEXTS.has(context)
        ? 'debug'
        : requested;
    if (!this.root.isLevelEnabled(level)) return;
    const rest = (context === undefined ? params : params.slice(0, -1)).filter(
      (param) => param !== undefined,
    );
    const fields: Fields = context === undefined ? {} : { context };
    const text = toLine(message, rest, fields);
    if (rest.length > 0) fields.details = rest;
    this.root[level](fields, text);
  }
}

/**
 * Fills `fields` from the message and the arguments it consumes (taken out of `rest`), and
 * answers the line's text.
 */
function toLine(message: unknown, rest: unknown[], fields: Fields): string | undefined {
  if (message instanceof Error) {
    fields.err = message;
    return takeString(rest) ?? message.message;
  }
  if (typeof message === 'object' && message !== null) {
    Object.assign(fields, message);
    return takeString(rest);
  }
  const text = String(message);
  // Nest's exception handlers call `error(message, stack)`.
  if (typeof rest[0] === 'string' && /\n\s*at /.test(rest[0])) {
    fields.err = { message: text, stack: rest.shift() };
  }
  return text;
}

function takeString(rest: unknown[]): string | undefined {
  return typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
}
