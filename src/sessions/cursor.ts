import { AppError } from '../common/errors/app-error';

/** Keyset cursor for the session list: the (last_active, id) of the last row of a page. */
export type SessionCursor = [lastActive: number, id: string];

export function encodeCursor(cursor: SessionCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): SessionCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'number' &&
      Number.isFinite(value[0]) &&
      typeof value[1] === 'string'
    ) {
      return [value[0], value[1]];
    }
  } catch {
    // Falls through to the error below: a cursor we did not make.
  }
  throw new AppError('invalid_cursor', 'cursor is not a cursor this server issued');
}
