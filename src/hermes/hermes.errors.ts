import { HttpStatus } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';

/** Stable codes of upstream failures; callers branch on `code` (or `instanceof`), never on text. */
export type HermesErrorCode =
  | 'hermes_http_error'
  | 'hermes_protocol_error'
  | 'hermes_connection_error'
  | 'hermes_timeout'
  | 'hermes_stream_lost'
  | 'hermes_stream_idle'
  | 'hermes_profiles_invalid';

/** Base class of every failure talking to the upstream. Messages never contain the API key. */
export abstract class HermesError extends Error {
  abstract readonly code: HermesErrorCode;

  constructor(
    readonly profile: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The upstream answered with a non-2xx status. `body` is its text, truncated. */
export class HermesHttpError extends HermesError {
  readonly code = 'hermes_http_error';

  constructor(
    profile: string,
    readonly operation: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(profile, `Hermes ${operation} answered ${status}${body ? `: ${body}` : ''}`);
  }
}

/** The upstream answered 2xx, but not with what the contract promises (e.g. no `run_id`). */
export class HermesProtocolError extends HermesError {
  readonly code = 'hermes_protocol_error';

  constructor(
    profile: string,
    readonly operation: string,
    readonly detail: string,
  ) {
    super(profile, `Hermes ${operation}: ${detail}`);
  }
}

/** The request never got an answer: refused, reset, DNS failure... */
export class HermesConnectionError extends HermesError {
  readonly code = 'hermes_connection_error';

  constructor(
    profile: string,
    readonly operation: string,
    cause: unknown,
  ) {
    super(profile, `Hermes ${operation} failed to connect: ${describeCause(cause)}`, { cause });
  }
}

/** No complete answer within the request timeout. */
export class HermesTimeoutError extends HermesError {
  readonly code = 'hermes_timeout';

  constructor(
    profile: string,
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(profile, `Hermes ${operation} timed out after ${timeoutMs} ms`);
  }
}

/**
 * Why a run's event stream ended without `run.completed`, `run.failed` or `run.cancelled`:
 * - `ended`: the upstream closed the response cleanly;
 * - `connection_error`: the connection failed or broke;
 * - `not_found`: 404 on connect (unknown run, or its one stream was already consumed);
 * - `http_error`: another non-200 answer or not an event stream (see `status`);
 * - `idle`: nothing, not even a keepalive, for the idle timeout ({@link HermesStreamIdleError}).
 */
export type HermesStreamLostReason =
  'ended' | 'connection_error' | 'not_found' | 'http_error' | 'idle';

/**
 * The run's event stream is gone and cannot be resumed (one consumer per run): the run's outcome
 * is unknown to the stream. Poll `getRun` to learn it.
 */
export class HermesStreamLostError extends HermesError {
  readonly code: HermesErrorCode = 'hermes_stream_lost';

  constructor(
    profile: string,
    readonly runId: string,
    readonly reason: HermesStreamLostReason,
    readonly eventsSeen: number,
    detail?: string,
    readonly status?: number,
  ) {
    super(
      profile,
      `Hermes event stream of run ${runId} lost (${reason}${detail ? `: ${detail}` : ''}) ` +
        `after ${eventsSeen} events`,
    );
  }
}

/** The event stream stayed silent (no data, no keepalive) for longer than the idle timeout. */
export class HermesStreamIdleError extends HermesStreamLostError {
  override readonly code: HermesErrorCode = 'hermes_stream_idle';

  constructor(
    profile: string,
    runId: string,
    eventsSeen: number,
    readonly idleMs: number,
  ) {
    super(profile, runId, 'idle', eventsSeen, `no data for ${idleMs} ms`);
  }
}

/** The profiles configuration (file or environment) is invalid; the app must not start. */
export class HermesProfilesConfigError extends Error {
  readonly code: HermesErrorCode = 'hermes_profiles_invalid';

  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid Hermes profiles (${source}): ${problems.join('; ')}`);
    this.name = 'HermesProfilesConfigError';
  }
}

/** A client asked for a profile that is not configured. Maps to 400 `unknown_profile`. */
export class UnknownProfileError extends AppError {
  constructor(
    readonly profile: string,
    known: readonly string[],
  ) {
    super(
      'unknown_profile',
      `Unknown Hermes profile '${profile}' (configured: ${known.join(', ')})`,
      HttpStatus.BAD_REQUEST,
    );
    this.name = 'UnknownProfileError';
  }
}

/**
 * `fetch` wraps the interesting part (ECONNREFUSED...) in `cause`. Duck-typed: errors made by
 * Node internals may come from another realm (Jest), where `instanceof Error` is false.
 */
export function describeCause(cause: unknown): string {
  const outer = asErrorLike(cause);
  if (!outer) return String(cause);
  const inner = asErrorLike(outer.cause);
  if (!inner) return outer.message;
  return `${outer.message}: ${inner.code ? `${inner.code} ` : ''}${inner.message}`;
}

interface ErrorLike {
  name: string;
  message: string;
  code?: string;
  cause?: unknown;
}

export function asErrorLike(value: unknown): ErrorLike | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record['message'] !== 'string') return undefined;
  return {
    name: typeof record['name'] === 'string' ? record['name'] : 'Error',
    message: record['message'],
    code: typeof record['code'] === 'string' ? record['code'] : undefined,
    cause: record['cause'],
  };
}

export { errorMessage } from '../common/errors/error-message';
