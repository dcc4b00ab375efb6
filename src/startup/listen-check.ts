import { createServer } from 'node:net';
import type { HttpSettings } from '../config/app-config';
import { StartupError } from './startup-error';

type Address = Pick<HttpSettings, 'port' | 'host'>;

/**
 * Binds the port and lets it go again before Nest binds it: when it is taken, Nest would log
 * that the application started and then a stack; this says so in one line instead. (Another
 * process may still take it in between: `listenFailure` explains Nest's error the same way.)
 */
export async function assertCanListen(address: Address): Promise<void> {
  // Port 0: a free port the OS picks, which is always there.
  if (address.port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(address.port, address.host, resolve);
  }).catch((error: unknown) => {
    throw listenFailure(address, error) ?? error;
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** The one line for an error of `listen`, or undefined for one that is not the settings'. */
export function listenFailure(address: Address, error: unknown): StartupError | undefined {
  const where = `PORT=${address.port} (HOST=${address.host})`;
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return new StartupError(`${where} is already in use`, { cause: error });
    case 'EACCES':
      return new StartupError(`${where} may not be bound by this user (EACCES)`, { cause: error });
    case 'EADDRNOTAVAIL':
      return StartupError.setting('HOST', address.host, 'not an address of this machine', error);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return StartupError.setting('HOST', address.host, 'unknown host', error);
    default:
      return undefined;
  }
}
