import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import { AppConfig } from '../config/app-config';
import { httpLoggerOptions } from './http-logger-options';
import { ROOT_LOGGER, type RootLogger } from './root-logger';

export type RequestHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  next: () => void,
) => void;

/**
 * The HTTP request logger, as plain middleware over the root logger: it gives each request its
 * id (`X-Request-Id`), a child logger `req.log` that writes it on every line, and one line when
 * the response is done. Nothing is kept in AsyncLocalStorage: an active store turns on promise
 * tracking for the whole process, which costs the socket path several percent of its CPU.
 */
@Injectable()
export class RequestLogger {
  readonly handler: RequestHandler;

  constructor(@Inject(ROOT_LOGGER) root: RootLogger, config: AppConfig) {
    const middleware = pinoHttp({ ...httpLoggerOptions(config), logger: root });
    this.handler = (request, response, next) => middleware(request, response, next);
  }
}
