import { HttpStatus } from '@nestjs/common';

/**
 * Stable, machine-readable error codes. Clients branch on `code`, never on `message`.
 * REST answers `{ statusCode, code, message }`; the socket layer answers `{ ok: false, error }`.
 */
export type ErrorCode =
  | 'invalid_payload'
  | 'invalid_cursor'
  | 'input_too_large'
  | 'unauthorized'
  | 'not_found'
  | 'unknown_session'
  | 'unknown_profile'
  | 'session_exists'
  | 'shutting_down'
  | 'session_moved'
  | 'session_unavailable'
  | 'no_active_run'
  | 'no_pending_approval'
  | 'conflict'
  | 'payload_too_large'
  | 'method_not_allowed'
  | 'http_error'
  | 'internal_error';

/** An expected failure: carries its code and the HTTP status it maps to. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: HttpStatus = HttpStatus.BAD_REQUEST,
  ) {
    super(message);
    this.name = 'AppError';
  }

  static unknownSession(id: string): AppError {
    return new AppError('unknown_session', `Session '${id}' does not exist`, HttpStatus.NOT_FOUND);
  }

  static sessionExists(id: string): AppError {
    return new AppError('session_exists', `Session '${id}' already exists`, HttpStatus.CONFLICT);
  }

  static invalidPayload(message: string): AppError {
    return new AppError('invalid_payload', message, HttpStatus.BAD_REQUEST);
  }
}
