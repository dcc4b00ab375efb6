import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, IsNull, LessThanOrEqual, Not, Repository } from 'typeorm';
import { serialWrite } from '../../database/serial-transactions';
import { HermesProfiles } from '../hermes-profiles';
import { errorMessage } from '../hermes.errors';
import { runDeleteCommand } from './ephemeral-session-cleanup.command';
import { HermesCleanupTask } from './hermes-cleanup-task.entity';

export interface HermesCleanupOptions {
  /** Attempts per session before the task gives up (and stays visible with its last error). */
  maxAttempts: number;
  /** Delay after the first failure; doubled after each further one, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** How often the worker looks for due tasks. */
  pollIntervalMs: number;
  /** A delete command running longer than this is killed and counts as a failure. */
  commandTimeoutMs: number;
  /** Tasks handled per pass. */
  batchSize: number;
}

export const DEFAULT_CLEANUP_OPTIONS: HermesCleanupOptions = {
  maxAttempts: 5,
  baseDelayMs: 30_000,
  maxDelayMs: 60 * 60_000,
  pollIntervalMs: 30_000,
  commandTimeoutMs: 60_000,
  batchSize: 20,
};

/** Optional provider to override {@link DEFAULT_CLEANUP_OPTIONS} (partially). */
export const HERMES_CLEANUP_OPTIONS = Symbol('HERMES_CLEANUP_OPTIONS');

export interface CleanupPassResult {
  deleted: number;
  retrying: number;
  gaveUp: number;
}

const MAX_ERROR_LENGTH = 1000;

/**
 * Deletes the upstream ephemeral sessions the gateway created, from a stored queue:
 * `<cleanupCommand> sessions delete <id> --yes` with `HERMES_HOME=<home>`, retried with
 * exponential backoff up to `maxAttempts`, failures logged with the session id and kept in the
 * table. Fully inert (no timer, no query, `enqueue` is a no-op) for profiles without `home`.
 * Every write to the table goes through `serialWrite`, like every SQLite write in the app.
 */
@Injectable()
export class EphemeralSessionCleanup implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EphemeralSessionCleanup.name);
  private readonly options: HermesCleanupOptions;
  /** The repository's own data source: the lock of `serialWrite` is per data source. */
  private readonly dataSource: DataSource;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<CleanupPassResult>;

  constructor(
    @InjectRepository(HermesCleanupTask) private readonly tasks: Repository<HermesCleanupTask>,
    private readonly profiles: HermesProfiles,
    @Optional() @Inject(HERMES_CLEANUP_OPTIONS) options?: Partial<HermesCleanupOptions>,
  ) {
    this.options = { ...DEFAULT_CLEANUP_OPTIONS, ...options };
    this.dataSource = tasks.manager.connection;
  }

  /** Whether any profile has a home, i.e. whether the worker runs at all. */
  get active(): boolean {
    return this.profiles.all().some((profile) => profile.home !== undefined);
  }

  onApplicationBootstrap(): void {
    if (!this.active) return;
    this.timer = setInterval(() => void this.runPass(), this.options.pollIntervalMs);
    this.timer.unref();
    this.logger.log(`Ephemeral session cleanup every ${this.options.pollIntervalMs} ms`);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.pass;
  }

  /**
   * Fire-and-forget `enqueue` for callers that must not wait or fail on it (a run's end, a
   * summary): a failure is logged here and the session is left to the upstream.
   */
  forget(profileName: string, upstreamSessionId: string): void {
    this.enqueue(profileName, upstreamSessionId).catch((error: unknown) =>
      this.logger.warn(
        `Queueing the cleanup of ${upstreamSessionId} failed: ${errorMessage(error)}`,
      ),
    );
  }

  /**
   * Queues an upstream session for deletion (idempotent). Resolves `false`, doing nothing, when
   * the profile has no home.
   */
  async enqueue(profileName: string, upstreamSessionId: string): Promise<boolean> {
    if (this.profiles.get(profileName).home === undefined) return false;
    const now = Date.now() / 1000;
    await serialWrite(this.dataSource, () =>
      this.tasks
        .createQueryBuilder()
        .insert()
        .into(HermesCleanupTask)
        .values({
          profile: profileName,
          upstreamSessionId,
          attempts: 0,
          nextAttemptAt: now,
          lastError: null,
          createdAt: now,
        })
        .orIgnore()
        .execute(),
    );
    this.logger.log(`Queued upstream session ${upstreamSessionId} (${profileName}) for deletion`);
    return true;
  }

  /** Tasks still to be attempted, oldest due first. */
  pending(): Promise<HermesCleanupTask[]> {
    return this.tasks.find({ where: { nextAttemptAt: Not(IsNull()) }, order: { id: 'ASC' } });
  }

  /** Tasks that gave up after `maxAttempts`, with their last error. */
  failures(): Promise<HermesCleanupTask[]> {
    return this.tasks.find({ where: { nextAttemptAt: IsNull() }, order: { id: 'ASC' } });
  }

  /** Runs the due tasks once (the worker's pass; callable directly). Passes never overlap. */
  runDue(now: number = Date.now()): Promise<CleanupPassResult> {
    this.pass ??= this.handleDue(now).finally(() => (this.pass = undefined));
    return this.pass;
  }

  private async runPass(): Promise<void> {
    try {
      await this.runDue();
    } catch (error) {
      this.logger.error(`Cleanup pass failed: ${errorMessage(error)}`);
    }
  }

  private async handleDue(now: number): Promise<CleanupPassResult> {
    const result: CleanupPassResult = { deleted: 0, retrying: 0, gaveUp: 0 };
    if (!this.active) return result;
    const due = await this.tasks.find({
      where: { nextAttemptAt: LessThanOrEqual(now / 1000) },
      order: { nextAttemptAt: 'ASC' },
      take: this.options.batchSize,
    });
    for (const task of due) {
      try {
        await this.deleteUpstream(task);
        await serialWrite(this.dataSource, () => this.tasks.delete(task.id));
        result.deleted++;
        this.logger.log(`Deleted upstream session ${task.upstreamSessionId} (${task.profile})`);
      } catch (error) {
        const gaveUp = await this.recordFailure(task, errorMessage(error), now);
        result[gaveUp ? 'gaveUp' : 'retrying']++;
      }
    }
    return result;
  }

  private async recordFailure(
    task: HermesCleanupTask,
    message: string,
    now: number,
  ): Promise<boolean> {
    const attempts = task.attempts + 1;
    const gaveUp = attempts >= this.options.maxAttempts;
    const delay = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempts - 1));
    await serialWrite(this.dataSource, () =>
      this.tasks.update(task.id, {
        attempts,
        lastError: message.slice(0, MAX_ERROR_LENGTH),
        nextAttemptAt: gaveUp ? null : (now + delay) / 1000,
      }),
    );
    const what = `Deleting upstream session ${task.upstreamSessionId} (${task.profile})`;
    if (gaveUp) {
      this.logger.error(`${what} failed ${attempts} times, giving up: ${message}`);
    } else {
      this.logger.warn(
        `${what} failed (attempt ${attempts}/${this.options.maxAttempts}): ${message}`,
      );
    }
    return gaveUp;
  }

  private async deleteUpstream(task: HermesCleanupTask): Promise<void> {
    const profile = this.profiles.has(task.profile) ? this.profiles.get(task.profile) : undefined;
    if (profile?.home === undefined) {
      throw new Error(`profile '${task.profile}' has no Hermes home configured any more`);
    }
    await runDeleteCommand(profile, task.upstreamSessionId, this.options.commandTimeoutMs);
  }
}
