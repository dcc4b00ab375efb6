import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failureReason, failureReasonOrMessage } from './failure-reason';

/** What `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

/** The error of a TCP connection to a port nothing listens on. */
async function refusedConnection(): Promise<Error> {
  const spare = createServer();
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
  const { port } = spare.address() as { port: number };
  await new Promise((resolve) => spare.close(resolve));
  return new Promise((resolve) => connect(port, '127.0.0.1').once('error', resolve));
}

/** An error as PostgreSQL's driver builds it from the server's answer. */
const postgresError = (code: string, message: string) =>
  Object.assign(new Error(message), { code, severity: 'FATAL' });

describe('failureReason', () => {
  it('names socket and DNS failures', async () => {
    expect(failureReason(await refusedConnection())).toBe('connection refused');
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND db.invalid'), { code: 'ENOTFOUND' });
    expect(failureReason(dns)).toBe('unknown host');
    expect(failureReason(new Error('Connection terminated due to connection timeout'))).toBe(
      'timed out',
    );
    expect(failureReason(new Error('Connection terminated unexpectedly'))).toBe(
      'the server closed the connection',
    );
  });

  it('names file system failures with their code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'failure-reason-'));
    try {
      writeFileSync(join(dir, 'file'), '');
      const under = thrown(() => mkdirSync(join(dir, 'file', 'sub'), { recursive: true }));
      expect(failureReason(under)).toBe('ENOTDIR: a part of the path is a file, not a folder');
      const onto = thrown(() => mkdirSync(join(dir, 'file'), { recursive: true }));
      expect(failureReason(onto)).toBe('EEXIST: a file is in the way');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const denied = Object.assign(new Error("EACCES: permission denied, open '/x'"), {
      code: 'EACCES',
    });
    expect(failureReason(denied)).toBe('EACCES: permission denied');
  });

  it("says PostgreSQL's refusals in its own words, never a password", () => {
    expect(failureReason(postgresError('28P01', 'password authentication failed for "app"'))).toBe(
      'password authentication failed',
    );
    expect(failureReason(postgresError('3D000', 'database "nope" does not exist'))).toBe(
      'database "nope" does not exist',
    );
    expect(failureReason(postgresError('28000', 'role "nobody" does not exist'))).toBe(
      'role "nobody" does not exist',
    );
  });

  it("names SQLite's file errors", () => {
    const cantOpen = Object.assign(new Error('SQLITE_CANTOPEN: unable to open database file'), {
      code: 'SQLITE_CANTOPEN',
      errno: 14,
    });
    expect(failureReason(cantOpen)).toBe('SQLITE_CANTOPEN: cannot open the database file');
  });

  it('looks inside the errors drivers wrap', async () => {
    const refused = await refusedConnection();
    // TypeORM's QueryFailedError, node-redis's ReconnectStrategyError, Node's AggregateError.
    expect(failureReason({ message: 'query failed', driverError: refused })).toBe(
      'connection refused',
    );
    expect(failureReason(Object.assign(new Error('x'), { originalError: refused }))).toBe(
      'connection refused',
    );
    expect(failureReason(new AggregateError([refused, refused]))).toBe('connection refused');
    expect(failureReason(new Error('outer', { cause: refused }))).toBe('connection refused');
  });

  it('knows nothing of other errors, and then the first line of the message is the reason', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')\n    at f");
    expect(failureReason(bug)).toBeUndefined();
    expect(failureReason('a string')).toBeUndefined();
    expect(failureReasonOrMessage(bug)).toBe("Cannot read properties of undefined (reading 'x')");
  });

  it('survives errors that wrap each other', () => {
    const first: { message: string; cause?: unknown } = { message: 'first' };
    const second = { message: 'second', cause: first };
    first.cause = second;
    expect(failureReason(first)).toBeUndefined();
  });
});
