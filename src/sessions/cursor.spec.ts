import { AppError } from '../common/errors/app-error';
import { decodeCursor, encodeCursor } from './cursor';

const b64 = (json: string): string => Buffer.from(json, 'utf8').toString('base64url');

describe('session list cursor', () => {
  it.each<[number, string]>([
    [1_764_230_000.123456, '0b6e2c1e-3f1a-4c55-9d0e-2f4a1b3c5d6e'],
    [0, ''],
    [-1.5, 'id with "quotes", commas and ünïcødé'],
  ])('round-trips (%p, %j)', (lastActive, id) => {
    const raw = encodeCursor([lastActive, id]);
    expect(raw).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(raw)).toEqual([lastActive, id]);
  });

  it.each([
    ['garbage', 'not a cursor!!'],
    ['an empty string', ''],
    ['JSON that is not an array', b64('{"lastActive":1,"id":"a"}')],
    ['an array that is too short', b64('[1]')],
    ['an array that is too long', b64('[1,"a","b"]')],
    ['a string timestamp', b64('["1","a"]')],
    ['a numeric id', b64('[1,2]')],
    ['a null timestamp', b64('[null,"a"]')],
    ['an infinite timestamp', b64('[1e999,"a"]')],
    ['a negative infinite timestamp', b64('[-1e999,"a"]')],
  ])('rejects %s with invalid_cursor', (_label, raw) => {
    let thrown: unknown;
    try {
      decodeCursor(raw);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ code: 'invalid_cursor', status: 400 });
  });
});
