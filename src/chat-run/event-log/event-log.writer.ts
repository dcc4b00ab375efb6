import type { Logger } from '@nestjs/common';
import { LeaseLostError } from '../../cluster/session-leases';
import type { EventLogOptions } from './event-log.options';
import { BatchRow, EventLogStore, HeadRow } from './event-log.store';
import type { LoggedEvent } from './logged-event';
import { boundPending, headFor, SessionLog, WriteMode } from './session-log';
import { errorMessage } from '../../common/errors/error-message';

/** Sessions per statement: well under the bind-parameter limits, and a failure stays local. */
const WRITE_CHUNK = 100;
/** During an outage a failed write is logged on the first attempt and then every this many. */
const FAILURE_LOG_EVERY = 20;

interface WriteJob {
  log: SessionLog;
  events: LoggedEvent[];
  head: HeadRow;
}

/**
 * The batched write path of the event log: the set of dirty logs, the one shared flush timer and
 * the single ordered write queue. A write takes each log's buffer, stores it as one batch row per
 * session together with the head, and on failure puts the events back for the next attempt.
 */
export class EventLogWriter {
  /** Open logs with something to write. */
  private readonly dirty = new Set<SessionLog>();
  /** One write at a time: a session's batches and heads land in seq order, never concurrently. */
  private writes: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private tickRunning = false;
  private failureStreak = 0;

  constructor(
    private readonly store: EventLogStore,
    private readonly options: EventLogOptions,
    private readonly logger: Logger,
    /** Whether the log is (still) its session's open one; only those are written on the timer. */
    private readonly isAttached: (log: SessionLog) => boolean,
    /** Whether the session row still exists (a failed write may mean it was deleted). */
    private readonly sessionExists: (sessionId: string) => Promise<boolean>,
  ) {}

  /** The log has something to write: it goes into the next timed write. */
  markDirty(log: SessionLog): void {
    this.dirty.add(log);
    this.schedule();
  }

  forget(log: SessionLog): void {
    this.dirty.delete(log);
  }

  /** Writes every dirty log once the queue reaches it. */
  async flushDirty(): Promise<void> {
    await this.enqueue(() => this.write([...this.dirty], 'flush'));
  }

  /** Writes the given logs in the queue's order; resolves to those whose events went back. */
  writeLogs(logs: readonly SessionLog[], mode: WriteMode): Promise<SessionLog[]> {
    return this.enqueue(() => this.write(logs, mode));
  }

  /** Stops the shared timer (shutdown); a log marked dirty afterwards re-arms it. */
  stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs a task in the write queue, after every write queued before it. */
  enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.writes.then(task);
    this.writes = run.then(
      () => undefined,
      // Tasks handle their own failures; reaching this is a bug, which must not stop the queue.
      (error: unknown) => this.logger.error(`Event log write task failed: ${errorMessage(error)}`),
    );
    return run;
  }

  // ---------------------------------------------------------------------------------------------

  private schedule(): void {
    if (this.timer !== undefined || this.tickRunning || this.dirty.size === 0) return;
    this.timer = setTimeout(() => this.tick(), this.options.flushIntervalMs);
    // Buffered events must not keep the process alive; shutdown writes them.
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    this.tickRunning = true;
    // Not re-armed until this write ends: a slow database gets bigger batches, not a backlog.
    const done = (): void => {
      this.tickRunning = false;
      this.schedule();
    };
    this.enqueue(() => this.write([...this.dirty], 'flush')).then(done, done);
  }

  /** Writes the given logs; returns those whose events went back to the buffer. */
  private async write(logs: readonly SessionLog[], mode: WriteMode): Promise<SessionLog[]> {
    const jobs: WriteJob[] = [];
    // Taken synchronously: appends from here on go to a fresh buffer.
    for (const log of logs) {
      this.dirty.delete(log);
      if (log.gone) {
        log.pending = [];
        continue;
      }
      if (mode === 'flush' && log.pending.length === 0 && !log.floorDirty) continue;
      const events = log.pending;
      log.pending = [];
      log.inFlight = events.length > 0 ? events : null;
      jobs.push({ log, events, head: headFor(log, events, mode, this.options.block) });
    }
    const failed: SessionLog[] = [];
    let lastError: unknown;
    for (let start = 0; start < jobs.length; start += WRITE_CHUNK) {
      const chunk = jobs.slice(start, start + WRITE_CHUNK);
      try {
        await this.store.write(batchRows(chunk), heads(chunk));
        for (const job of chunk) this.committed(job);
      } catch (error) {
        lastError = await this.writeAlone(chunk, error, failed);
      }
    }
    this.reportOutcome(jobs.length, failed.length, lastError);
    return failed;
  }

  /**
   * After a chunk failed: one session at a time, so a single bad session (typically one deleted
   * meanwhile) cannot hold back the others. Returns the last error.
   */
  private async writeAlone(
    chunk: readonly WriteJob[],
    chunkError: unknown,
    failed: SessionLog[],
  ): Promise<unknown> {
    let lastError = chunkError;
    let reachable = true;
    for (const job of chunk) {
      let jobError = chunk.length === 1 ? chunkError : undefined;
      if (reachable && chunk.length > 1) {
        try {
          await this.store.write(batchRows([job]), [job.head]);
          this.committed(job);
          continue;
        } catch (error) {
          lastError = jobError = error;
        }
      }
      if (jobError instanceof LeaseLostError) {
        this.discard(job, 'another instance holds the session now');
        continue;
      }
      if (reachable) {
        try {
          if (!(await this.sessionExists(job.log.sessionId))) {
            this.discard(job, 'the session was deleted');
            continue;
          }
        } catch (error) {
          // The database itself is failing: the rest of the chunk waits for the next attempt.
          reachable = false;
          lastError = error;
        }
      }
      this.restore(job);
      failed.push(job.log);
    }
    return lastError;
  }

  private committed({ log, events, head }: WriteJob): void {
    log.storedSeq = head.lastStoredSeq;
    log.reservedSeq = head.seqReserved;
    if (log.floor === head.replayFloor) log.floorDirty = false;
    if (log.nextSeq - 1 <= log.reservedSeq) log.warnedReservation = false;
    // Same synchronous step as leaving `inFlight`: a running replay sees these events either
    // here or in memory, never in neither.
    if (events.length > 0) for (const watcher of log.watchers) watcher.push(events);
    log.inFlight = null;
  }

  private restore({ log, events }: WriteJob): void {
    log.inFlight = null;
    if (events.length > 0) log.pending = events.concat(log.pending);
    boundPending(log, this.options.maxPendingEvents, this.logger);
    if (this.isAttached(log)) this.markDirty(log);
  }

  /**
   * The session row is gone and its stored log with it (cascade), or another instance holds the
   * session now and keeps its log: stop keeping events here.
   */
  private discard({ log }: WriteJob, why: string): void {
    log.gone = true;
    log.inFlight = null;
    log.pending = [];
    this.logger.log(`Session ${log.sessionId}: ${why}; its event log is no longer kept here`);
  }

  private reportOutcome(attempted: number, failed: number, error: unknown): void {
    if (failed > 0) {
      this.failureStreak++;
      if (this.failureStreak === 1 || this.failureStreak % FAILURE_LOG_EVERY === 0) {
        this.logger.warn(
          `Writing the event log failed for ${failed} of ${attempted} sessions ` +
            `(attempt ${this.failureStreak}); the events stay buffered: ${errorMessage(error)}`,
        );
      }
    } else if (attempted > 0 && this.failureStreak > 0) {
      this.logger.log(`Event log writes recovered after ${this.failureStreak} failed attempts`);
      this.failureStreak = 0;
    }
  }
}

function batchRows(jobs: readonly WriteJob[]): BatchRow[] {
  return jobs
    .filter((job) => job.events.length > 0)
    .map(({ log, events }) => ({
      sessionId: log.sessionId,
      firstSeq: events[0].seq,
      lastSeq: events[events.length - 1].seq,
      events: JSON.stringify(events),
    }));
}

function heads(jobs: readonly WriteJob[]): HeadRow[] {
  return jobs.map((job) => job.head);
}
