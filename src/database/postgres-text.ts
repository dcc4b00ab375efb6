import { Client } from 'pg';

/**
 * What a stored U+0000 becomes on PostgreSQL. Its `text` type cannot hold NUL at all (the
 * write fails with "invalid byte sequence"); U+FFFD, the replacement character, keeps the text
 * and its length and says that something unrepresentable was there. SQLite stores NUL as is.
 */
export const NUL_REPLACEMENT = '\uFFFD';

/** `value` with every NUL replaced, or `value` itself when it holds none (the usual case). */
export function storableText(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', NUL_REPLACEMENT) : value;
}

function storableValues(values: unknown): unknown {
  if (!Array.isArray(values)) return values;
  const given: readonly unknown[] = values;
  let copy: unknown[] | undefined;
  given.forEach((value, index) => {
    if (typeof value === 'string' && value.includes('\u0000')) {
      copy ??= [...given];
      copy[index] = storableText(value);
    }
  });
  return copy ?? values;
}

/**
 * The pg `Client` of every pooled connection (TypeORM's `extra.Client`): it makes string
 * parameters storable before they are sent, so that no write anywhere in the gateway (a reply,
 * a title, a search term) fails on a NUL. One place for every statement, TypeORM's and ours.
 */
export class StorableTextClient extends Client {}

StorableTextClient.prototype.query = function (this: Client, ...args: unknown[]): unknown {
  const [first, second] = args;
  if (typeof first === 'object' && first !== null && 'values' in first) {
    const config = first as { values?: unknown };
    const values = storableValues(config.values);
    if (values !== config.values) args[0] = { ...config, values };
  }
  if (Array.isArray(second)) args[1] = storableValues(second);
  return (Client.prototype.query as (...params: unknown[]) => unknown).apply(this, args);
} as Client['query'];
