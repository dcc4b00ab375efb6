import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { SerializedRequest } from 'pino';
import type { Options } from 'pino-http';
import { AppConfig } from '../config/app-config';

/** Paths that may hold secrets; pino replaces their values before a line is written. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.authorization',
  '*.password',
];

const CENSOR = '[redacted]';

/**
 * A `token` in the query string is a credential (the export route accepts one, for clients that
 * open the download as a plain URL). Paths cannot reach inside the URL string, so the request
 * serializer takes it out of both the URL and the parsed query.
 */
export function redactQueryToken(request: SerializedRequest): SerializedRequest {
  if (typeof request.url === 'string') {
    request.url = request.url.replace(/([?&]token=)[^&#]*/gi, `$1${CENSOR}`);
  }
  const query: unknown = request.query;
  if (typeof query === 'object' && query !== null && 'token' in query) {
    request.query = { ...(query as Record<string, string>), token: CENSOR };
  }
  return request;
}

/** The request logger's options: one line per request, secrets redacted, health probes quiet. */
export function httpLoggerOptions(config: AppConfig): Options {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    serializers: { req: redactQueryToken },
    // Health probes would drown the request log.
    autoLogging: { ignore: (req) => req.url?.startsWith('/api/health') ?? false },
    quietReqLogger: true,
  };
}

/** Structured JSON logs (nestjs-pino) with secrets redacted. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        pinoHttp: httpLoggerOptions(config),
        // Express 5 path syntax; the default '*' makes Nest warn about a legacy route.
        forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
      }),
    }),
  ],
})
export class LoggingModule {}
