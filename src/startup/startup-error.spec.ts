import { createServer } from 'node:net';
import { assertCanListen, listenFailure } from './listen-check';
import { StartupError } from './startup-error';

describe('StartupError', () => {
  it('is one line: the setting, its value and the problem', () => {
    const error = StartupError.setting('DATA_DIR', '/srv/data', 'not writable (EACCES)');
    expect(error.message).toBe('DATA_DIR=/srv/data: not writable (EACCES)');
    const multiLine = new StartupError('X=1: not valid YAML (at line 2:\n\n  a: b: c\n     ^\n)');
    expect(multiLine.message).toBe('X=1: not valid YAML (at line 2: a: b: c ^ )');
  });
});

describe('assertCanListen', () => {
  it('says in one line that the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      await expect(assertCanListen({ port, host: '127.0.0.1' })).rejects.toThrow(
        new StartupError(`PORT=${port} (HOST=127.0.0.1) is already in use`),
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // Free again: the check lets it go.
    await assertCanListen({ port, host: '127.0.0.1' });
    await assertCanListen({ port, host: '127.0.0.1' });
  });

  it('names HOST when it is not an address of this machine', () => {
    const error = Object.assign(new Error('listen EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' });
    expect(listenFailure({ port: 8648, host: '10.9.9.9' }, error)?.message).toBe(
      'HOST=10.9.9.9: not an address of this machine',
    );
    expect(listenFailure({ port: 8648, host: '::' }, new Error('other'))).toBeUndefined();
  });
});
