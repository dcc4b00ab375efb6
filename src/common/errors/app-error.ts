import { HttpStatus } from '@nestjs/common';
import type { ErrorCode } from '@hermes-chat-gateway/client';

/**
 * Stable, machine-readable error codes (`ErrorCode`, defined with the wire protocol in the client
 * package). Clients branch on `code`, never on `message`. REST answers
 * `{ statusCode, code, message }`; the socket layer answers `{ ok: false, error }`.
 */
export type { ErrorCode };

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
