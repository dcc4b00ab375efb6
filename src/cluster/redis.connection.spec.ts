import { StartupError } from '../startup/startup-error';
import { RedisConnection } from './redis.connection';

async function failure(redisUrl: string): Promise<unknown> {
  return RedisConnection.open({ redisUrl, keyPrefix: 'spec:', leaseMs: 5000 }).then(
    () => null,
    (error: unknown) => error,
  );
}

// Redis that does not answer is covered end to end (test/e2e/startup-errors.e2e-spec.ts).
describe('RedisConnection.open', () => {
  it('names REDIS_URL, password masked, when the URL cannot be parsed', async () => {
    // `#` ends the user info for a URL parser: the client cannot even be created.
    const error = await failure('redis://:p#ss@127.0.0.1:6379');
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toMatch(
      /^REDIS_URL=redis:\/\/:\*\*\*@127\.0\.0\.1:6379: not a valid URL \(.+\)$/,
    );
    expect((error as Error).message).not.toContain('p#ss');
  });
});
