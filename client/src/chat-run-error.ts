import type { ErrorCode } from './protocol';

/** A request the gateway refused: its stable `code` and the server's message. */
export class ChatRunError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChatRunError';
  }
}
