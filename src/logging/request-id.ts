import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** The field of every line logged for a request that holds its id (pino-http's `reqId`). */
export const REQUEST_ID_FIELD = 'reqId';

/**
 * What an incoming id may be to be taken as it is: printable ASCII, at most 128 characters.
 * Anything else (control characters, UTF-8, a megabyte) would end up in every log line of the
 * request, so it is replaced.
 */
const SANE_ID = /^[\x20-\x7e]{1,128}$/;

/** The caller's `X-Request-Id` when it is sane; otherwise undefined. */
export function saneRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && SANE_ID.test(header) ? header : undefined;
}

/**
 * The request logger's `genReqId`: the caller's id (a proxy's, a client's) so that its logs and
 * ours can be joined, or a new UUID; echoed as `X-Request-Id` on the response either way.
 */
export function requestId(request: IncomingMessage, response: ServerResponse): string {
  const id = saneRequestId(request.headers['x-request-id']) ?? randomUUID();
  if (!response.headersSent) response.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/** The id the request logger gave `request`, if it went through it. */
export function requestIdOf(request: IncomingMessage | undefined): string | undefined {
  const id: unknown = (request as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}
