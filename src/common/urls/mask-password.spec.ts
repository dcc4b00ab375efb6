import { maskPassword } from './mask-password';

describe('maskPassword', () => {
  it('hides the password of the user info and of a password parameter', () => {
    expect(maskPassword('postgres://app:s3cret@db:5432/chat')).toBe(
      'postgres://app:***@db:5432/chat',
    );
    expect(maskPassword('redis://:p@ss@127.0.0.1:6379')).toBe('redis://:***@127.0.0.1:6379');
    // Characters a password may hold unencoded, which end the user info in a URL parser.
    for (const password of ['p#ss', 'p?ss', 'p/ss', 'p@s#s?/']) {
      expect(maskPassword(`postgres://app:${password}@db:5432/chat`)).toBe(
        'postgres://app:***@db:5432/chat',
      );
      expect(maskPassword(`redis://:${password}@cache:6379`)).toBe('redis://:***@cache:6379');
    }
    expect(maskPassword('postgres://app@db/chat?password=s3cret&sslmode=require')).toBe(
      'postgres://app@db/chat?password=***&sslmode=require',
    );
  });

  it('leaves a URL without a password as it is', () => {
    expect(maskPassword('postgres://postgres@127.0.0.1:5432/test')).toBe(
      'postgres://postgres@127.0.0.1:5432/test',
    );
    expect(maskPassword('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(maskPassword('sqlite:gateway.sqlite')).toBe('sqlite:gateway.sqlite');
  });
});
