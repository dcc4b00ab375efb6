import { Injectable, Logger } from '@nestjs/common';
import { errorMessage } from '../../common/errors/error-message';
import { SqlClient, SqlExecutor } from './sql-client';

/**
 * SQL work that belongs together: it commits or fails as one. It must do nothing but SQL, and
 * must not depend on another job of the same batch: jobs of a batch run side by side (each job's
 * own statements in order).
 */
export type WriteJob<T> = (tx: SqlExecutor) => Promise<T>;

interface PendingJob {
  work: WriteJob<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Most jobs in one transaction: a long batch would hold the write lock for too long. */
const MAX_JOBS_PER_BATCH = 500;

/** Figures for metrics and tests. */
export interface GroupCommitStats {
  batches: number;
  jobs: number;
  /** Batches that failed as a whole and were retried one job at a time. */
  splits: number;
  /** Duration of the last batch's transaction, in ms. */
  lastCommitMs: number;
}

/** One transaction of {@link GroupCommit}, as its listeners hear of it. */
export interface CommitRecord {
  jobs: number;
  seconds: number;
  ok: boolean;
}

/**
 * Group commit: every write job that arrives while the previous batch is being written (or in
 * the same tick) goes to the database in one transaction, and each caller resumes when that
 * transaction commits. A burst of run starts (user messages, run records), partial transcripts
 * and event-log batches then costs a few transactions instead of one each, with the same
 * guarantee: a job's promise resolves only once its writes are durable.
 *
 * A job that fails would take its batch with it, so a failed batch is rolled back and its jobs
 * are run again one transaction each: every other job still commits and only the failing one
 * rejects. Jobs are therefore pure SQL and safe to run twice.
 */
@Injectable()
export class GroupCommit {
  private readonly logger = new Logger(GroupCommit.name);
  private queue: PendingJob[] = [];
  private draining: Promise<void> | undefined;
  readonly stats: GroupCommitStats = { batches: 0, jobs: 0, splits: 0, lastCommitMs: 0 };
  private readonly listeners: ((commit: CommitRecord) => void)[] = [];

  constructor(private readonly sql: SqlClient) {}

  /** Runs `work` in the next batch; resolves with its result once the batch has committed. */
  write<T>(work: WriteJob<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // The first job of a batch waits for the rest of this tick (a burst arrives in one read).
      this.draining ??= new Promise<void>((started) => setImmediate(started)).then(() =>
        this.drain(),
      );
    });
  }

  /** Hears of every batch's transaction (metrics). */
  onCommit(listener: (commit: CommitRecord) => void): void {
    this.listeners.push(listener);
  }

  /** Resolves once every job written so far has committed or failed. */
  async settled(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, MAX_JOBS_PER_BATCH);
        this.queue = this.queue.slice(batch.length);
        await this.commit(batch);
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async commit(batch: PendingJob[]): Promise<void> {
    const began = performance.now();
    let ok = false;
    let results: unknown[];
    try {
      results = await this.sql.transaction(async (tx) => {
        // Jobs run side by side: while one waits for its statement, the next one's is queued
        // already, so the database never waits for the event loop between statements.
        const settled = await Promise.allSettled(batch.map((job) => job.work(tx)));
        const failure = settled.find((result) => result.status === 'rejected');
        if (failure) throw failure.reason;
        return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value);
      });
      ok = true;
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      this.stats.splits++;
      this.logger.warn(
        `A batch of ${batch.length} writes failed (${errorMessage(error)}); writing them one by one`,
      );
      for (const job of batch) {
        await this.sql.transaction(job.work).then(job.resolve, job.reject);
      }
      return;
    } finally {
      this.stats.batches++;
      this.stats.jobs += batch.length;
      this.stats.lastCommitMs = performance.now() - began;
      const commit = { jobs: batch.length, seconds: this.stats.lastCommitMs / 1000, ok };
      for (const listener of this.listeners) listener(commit);
    }
    batch.forEach((job, index) => job.resolve(results[index]));
  }
}
