import { errorMessage } from '../common/errors/error-message';

/**
 * Why connecting to a database or Redis, or creating a file or folder, failed, in a few words an
 * operator can act on, from the error a driver or Node threw: its errno (`ECONNREFUSED`,
 * `EACCES`), PostgreSQL's SQLSTATE (`28P01`, `3D000`) or SQLite's code (`SQLITE_CANTOPEN`).
 * The error may be wrapped (TypeORM's `driverError`, node-redis's `originalError`, an
 * `AggregateError` of the addresses tried); the first error with a known code decides.
 * Undefined when no code is known: the caller says what it was doing and adds the message.
 */
export function failureReason(error: unknown): string | undefined {
  for (const candidate of causes(error)) {
    const reason = reasonOf(candidate);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** {@link failureReason}, or else the first line of the error's message. */
export function failureReasonOrMessage(error: unknown): string {
  return failureReason(error) ?? firstLine(errorMessage(error));
}

/** Node's errno codes (sockets, DNS, files). */
const ERRNO: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'unknown host (the DNS lookup failed)',
  EACCES: 'EACCES: permission denied',
  EPERM: 'EPERM: operation not permitted',
  EROFS: 'EROFS: read-only file system',
  ENOSPC: 'ENOSPC: no space left on the device',
  ENOTDIR: 'ENOTDIR: a part of the path is a file, not a folder',
  EEXIST: 'EEXIST: a file is in the way',
  EISDIR: 'EISDIR: a folder is in the way',
  ENOENT: 'ENOENT: no such file or folder',
};

/** SQLite's result codes that mean the file, not the gateway, is the problem. */
const SQLITE: Record<string, string> = {
  SQLITE_CANTOPEN: 'SQLITE_CANTOPEN: cannot open the database file',
  SQLITE_READONLY: 'SQLITE_READONLY: the database is read-only',
  SQLITE_PERM: 'SQLITE_PERM: permission denied',
  SQLITE_NOTADB: 'SQLITE_NOTADB: not a SQLite database',
  SQLITE_CORRUPT: 'SQLITE_CORRUPT: the database file is corrupt',
  SQLITE_FULL: 'SQLITE_FULL: the disk is full',
  SQLITE_IOERR: 'SQLITE_IOERR: I/O error',
};

/** PostgreSQL's messages for these are clear and hold no secret (a role or database name). */
const POSTGRES_OWN_MESSAGE = new Set([
  '28000', // invalid authorization: role does not exist, no pg_hba.conf entry
  '3D000', // database does not exist
  '42501', // insufficient privilege
  '53300', // too many connections
  '57P03', // cannot connect now: starting up, shutting down
]);

/** Messages of drivers that set no code. */
const BY_MESSAGE: [RegExp, string][] = [
  [/timeout|timed out/i, 'timed out'],
  [/Connection terminated unexpectedly/, 'the server closed the connection'],
  [/does not support SSL/i, 'the server does not support SSL (remove sslmode or ssl)'],
];

function reasonOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code in ERRNO) return ERRNO[code];
    if (code in SQLITE) return SQLITE[code];
    if (code === '28P01') return 'password authentication failed';
    if (POSTGRES_OWN_MESSAGE.has(code) || code.startsWith('08')) {
      return firstLine(errorMessage(error));
    }
  }
  const message = errorMessage(error);
  return BY_MESSAGE.find(([pattern]) => pattern.test(message))?.[1];
}

/** The error and the errors it wraps, outermost first (bounded: causes may form a cycle). */
function causes(error: unknown): unknown[] {
  const found: unknown[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && found.length < 16) {
    const next = queue.shift();
    if (typeof next !== 'object' || next === null || found.includes(next)) continue;
    found.push(next);
    const wrapper = next as {
      driverError?: unknown;
      originalError?: unknown;
      socketError?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    queue.push(wrapper.driverError, wrapper.originalError, wrapper.socketError, wrapper.cause);
    if (Array.isArray(wrapper.errors)) queue.push(...(wrapper.errors as unknown[]));
  }
  return found;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0].trim();
}
