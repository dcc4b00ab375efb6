import type { Options } from 'pino-http';
import type { AppConfig } from '../config/app-config';
import { CENSOR, REDACTED_PATHS, redactRequest } from './redaction';
import { requestId } from './request-id';

/**
 * The request logger's options: one line per request carrying its id, secrets redacted, health
 * probes quiet.
 */
export function httpLoggerOptions(config: Pick<AppConfig, 'logLevel'>): Options {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    serializers: { req: redactRequest },
    genReqId: requestId,
    // Health probes would drown the request log.
    autoLogging: { ignore: (req) => req.url?.startsWith('/api/health') ?? false },
    // `req.log` carries only the request id, not the whole request, on every line it writes.
    quietReqLogger: true,
  };
}
