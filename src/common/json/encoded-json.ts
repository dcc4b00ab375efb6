/**
 * A JSON value encoded once, as UTF-8 pieces, that a request body embeds as it is instead of
 * serialising it again: a long session's history is megabytes that change only at the end from
 * one run to the next. `toJSON` decodes it, so anything that serialises it the usual way (a
 * test, a log) gets the value itself.
 */
export class EncodedJson<T> {
  constructor(readonly pieces: readonly Buffer[]) {}

  toJSON(): T {
    return JSON.parse(Buffer.concat(this.pieces).toString('utf8')) as T;
  }
}

/**
 * `JSON.stringify(body)` for an object, as the pieces to write one after the other: a top-level
 * field holding {@link EncodedJson} is spliced in as it is, at its place. The bytes are exactly
 * those `JSON.stringify` would give, so a request repeated after a restart (which encodes
 * everything afresh) is the same request. A body without such a field is one string.
 */
export function encodeJsonBody(body: object): string | Buffer[] {
  const entries = Object.entries(body);
  if (!entries.some(([, value]) => value instanceof EncodedJson)) return JSON.stringify(body);
  const pieces: Buffer[] = [];
  let text = '{';
  let first = true;
  for (const [key, value] of entries) {
    // As JSON.stringify: an undefined field is left out.
    if (value === undefined) continue;
    text += `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (value instanceof EncodedJson) {
      pieces.push(Buffer.from(text, 'utf8'), ...(value as EncodedJson<unknown>).pieces);
      text = '';
    } else {
      text += JSON.stringify(value);
    }
  }
  pieces.push(Buffer.from(`${text}}`, 'utf8'));
  return pieces;
}
