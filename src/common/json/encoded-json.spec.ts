import { EncodedJson, encodeJsonBody } from './encoded-json';

const encoded = <T>(value: T): EncodedJson<T> =>
  new EncodedJson<T>([Buffer.from(JSON.stringify(value), 'utf8')]);

const bytesOf = (body: string | Buffer[]): string =>
  typeof body === 'string' ? body : Buffer.concat(body).toString('utf8');

describe('encodeJsonBody', () => {
  it('is JSON.stringify itself for a body without encoded fields', () => {
    const body = { input: 'hi "there"\n', model: undefined, n: 3 };
    expect(encodeJsonBody(body)).toBe(JSON.stringify(body));
  });

  it.each([
    ['first', ['history', 'input', 'instructions']],
    ['in the middle', ['input', 'history', 'instructions']],
    ['last', ['input', 'instructions', 'history']],
  ])('splices an encoded field placed %s to the exact bytes of JSON.stringify', (_, order) => {
    const history = [
      { role: 'user', content: 'naïve “quotes” \u0000 \ud83d\ude00 \\ end' },
      { role: 'assistant', content: '' },
    ];
    const values: Record<string, unknown> = {
      input: 'ünïcode "input"',
      instructions: undefined,
      history,
    };
    const plain = Object.fromEntries(order.map((key) => [key, values[key]]));
    const spliced = Object.fromEntries(
      order.map((key) => [key, key === 'history' ? encoded(history) : values[key]]),
    );
    const body = encodeJsonBody(spliced);
    expect(Array.isArray(body)).toBe(true);
    expect(bytesOf(body)).toBe(JSON.stringify(plain));
  });

  it('splices an encoded field in several pieces, and one that is the only field', () => {
    const pieces = new EncodedJson<number[]>([Buffer.from('[1,'), Buffer.from('2]')]);
    expect(bytesOf(encodeJsonBody({ a: pieces, b: 'x' }))).toBe('{"a":[1,2],"b":"x"}');
    expect(bytesOf(encodeJsonBody({ only: pieces }))).toBe('{"only":[1,2]}');
  });

  it('decodes to the value where it is serialised the usual way', () => {
    const value = [{ role: 'user', content: 'x' }];
    expect(encoded(value).toJSON()).toEqual(value);
    expect(JSON.parse(JSON.stringify({ h: encoded(value) }))).toEqual({ h: value });
  });
});
