import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { createClient, type RedisClientType } from '@redis/client';
import { errorMessage } from '../common/errors/error-message';
import { maskPassword } from '../common/urls/mask-password';
import { failureReasonOrMessage } from '../startup/failure-reason';
import { StartupError } from '../startup/startup-error';
import type { ClusterSettings } from '../config/app-config';

/** How long the first connection may take before startup gives up (one clear line, no loop). */
const STARTUP_CONNECT_MS = 5000;
/** Longest pause between reconnection attempts once running (a brief outage only delays). */
const MAX_RECONNECT_DELAY_MS = 2000;

export type RedisClient = RedisClientType;

/**
 * The Redis of a multi-instance deployment (`REDIS_URL`), or none. Connected before the
 * Socket.IO server is created (its adapter needs it); afterwards it reconnects on its own with a
 * short backoff, so losing Redis for a moment delays room events and requests but stops nothing.
 */
export class RedisConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnection.name);
  private lastError = '';
  /** Until the first connection, a failure ends the startup instead of a reconnection. */
  private connected = false;

  private constructor(readonly client: RedisClient | null) {}

  /** Connects when `settings` is set; throws a {@link StartupError} naming REDIS_URL otherwise. */
  static async open(settings: ClusterSettings | null): Promise<RedisConnection> {
    if (!settings) return new RedisConnection(null);
    const url = maskPassword(settings.redisUrl);
    let client: RedisClient;
    try {
      client = createClient({
        url: settings.redisUrl,
        // Named, so that an operator (or a test) can tell this deployment's connections apart.
        name: `${settings.keyPrefix}gateway`,
        socket: {
          connectTimeout: STARTUP_CONNECT_MS,
          reconnectStrategy: (retries, cause) => connection.reconnectDelay(retries, cause),
        },
      });
    } catch (error) {
      // The URL parser's error carries the URL, password included: only its message is shown.
      throw StartupError.setting('REDIS_URL', url, `not a valid URL (${errorMessage(error)})`);
    }
    const connection = new RedisConnection(client);
    client.on('error', (error: unknown) => connection.onError(error));
    // Back after an outage: the next one is worth a line again, even with the same message.
    client.on('ready', () => (connection.lastError = ''));
    try {
      await withTimeout(client.connect(), STARTUP_CONNECT_MS);
    } catch (error) {
      // Closed already when the reconnection strategy gave up; still connecting on a timeout.
      if (client.isOpen) client.destroy();
      const reason = failureReasonOrMessage(error);
      throw StartupError.setting('REDIS_URL', url, `cannot connect (${reason})`, error);
    }
    connection.connected = true;
    connection.logger.log(
      `Several instances: Redis ${maskPassword(settings.redisUrl)}, key prefix ${settings.keyPrefix}`,
    );
    return connection;
  }

  /** Round trip time in ms (health). */
  async ping(): Promise<number> {
    if (!this.client) return 0;
    const started = performance.now();
    await this.client.ping();
    return performance.now() - started;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client?.isOpen) await this.client.quit().catch(() => undefined);
  }

  /** Returning the cause stops the attempts (`connect()` rejects with it): none at startup. */
  private reconnectDelay(retries: number, cause: Error): number | Error {
    return this.connected ? Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS) : cause;
  }

  private onError(error: unknown): void {
    // At startup the failure is the StartupError; afterwards, one line per kind of trouble, not
    // one per reconnection attempt.
    if (!this.connected) return;
    const message = errorMessage(error);
    if (message === this.lastError) return;
    this.lastError = message;
    this.logger.warn(`Redis: ${message} (reconnecting)`);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
