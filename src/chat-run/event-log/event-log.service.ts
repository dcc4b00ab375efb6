import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EVENT_LOG_OPTIONS, EventLogOptions, resolveEventLogOptions } from './event-log.options';
import { BatchRow, EventLogStore, HeadRow } from './event-log.store';
import { assembleReplay, incompleteReplay, LoggedEvent, ReplayResult } from './logged-event';

export type { LoggedEvent, ReplayResult } from './logged-event';

/** Sessions per statement: well under the bind-parameter limits, and a failure stays local. */
const WRITE_CHUNK = 100;
/** During an outage a failed write is logged on the first attempt and then every this many. */
const FAILURE_LOG_EVERY = 20;

/** The in-memory side of one open session's log. */
interface SessionLog {
  readonly sessionId: string;
  nextSeq: number;
  /** Every seq up to here is stored or at or below the floor. */
  storedSeq: number;
  /** The durable `seq_reserved`; seqs above it could be reused after a crash. */
  reservedSeq: number;
  floor: number;
  /** The floor was raised in memory (events dropped) and is not written yet. */
  floorDirty: boolean;
  /** Appended, not yet written. A write takes the whole array and leaves a fresh one. */
  pending: LoggedEvent[];
  /** Taken by the write in progress; still replayable until it commits. */
  inFlight: LoggedEvent[] | null;
  /** Replays reading the database now: each receives the batches committed meanwhile. */
  readonly watchers: Set<LoggedEvent[][]>;
  /** The session row was deleted (and its log with it): events are no longer kept. */
  gone: boolean;
  warnedReservation: boolean;
}

interface WriteJob {
  log: SessionLog;
  events: LoggedEvent[];
  head: HeadRow;
}

interface LifecycleStep {
  op: 'open' | 'close';
  promise: Promise<void>;
}

/**
 * Per-session sequence numbers and the stored log of room events, for exact replay.
 *
 * `append` is synchronous and O(1): it numbers the event, buffers it and arms one shared timer.
 * Every `flushIntervalMs` the buffers of all dirty sessions are written, one batch row per
 * session, through a single ordered write queue. Seq numbers survive crashes through a
 * reservation: the head row always holds an upper bound of the seqs that may have been sent, and
 * a log reopened after a crash continues above it and marks everything below as a replay floor.
 */
@Injectable()
export class EventLog implements OnApplicationShutdown {
  private readonly logger = new Logger(EventLog.name);
  private readonly options: EventLogOptions;
  private readonly store: EventLogStore;
  private readonly logs = new Map<string, SessionLog>();
  /** Open logs with something to write. */
  private readonly dirty = new Set<SessionLog>();
  /** The last queued open/close of each session, so they apply in call order. */
  private readonly lifecycle = new Map<string, LifecycleStep>();
  /** One write at a time: a session's batches and heads land in seq order, never concurrently. */
  private writes: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private tickRunning = false;
  private failureStreak = 0;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Optional() @Inject(EVENT_LOG_OPTIONS) options?: Partial<EventLogOptions>,
  ) {
    this.options = resolveEventLogOptions(options);
    this.store = new EventLogStore(dataSource);
  }

  /**
   * Loads the session's head and reserves seqs before any is handed out. Idempotent; concurrent
   * calls share one promise, and an open queued behind a `close` reopens after it. The session
   * row must exist.
   */
  open(sessionId: string): Promise<void> {
    const last = this.lifecycle.get(sessionId);
    if (last?.op === 'open') return last.promise;
    if (!last && this.logs.has(sessionId)) return Promise.resolve();
    return this.step(sessionId, 'open', last, () => this.openNow(sessionId));
  }

  isOpen(sessionId: string): boolean {
    return this.logs.has(sessionId);
  }

  /**
   * Numbers and buffers one room event; returns the exact object to emit. Synchronous and
   * constant-time: this runs for every streamed delta.
   */
  append(sessionId: string, event: string, payload: object): LoggedEvent {
    const log = this.requireOpen(sessionId);
    const seq = log.nextSeq++;
    // Object.assign copies several times faster than spread here (measured on Node 20); spread
    // only for a payload with an own `__proto__` key, which assign would make the prototype.
    const wire = (
      Object.hasOwn(payload, '__proto__') ? { ...payload } : Object.assign({}, payload)
    ) as LoggedEvent;
    wire.event = event;
    wire.session_id = sessionId;
    wire.seq = seq;
    if (log.gone) return wire;
    log.pending.push(wire);
    if (log.pending.length > this.options.maxPendingEvents) this.dropOldest(log);
    if (seq > log.reservedSeq && !log.warnedReservation) {
      log.warnedReservation = true;
      this.logger.warn(
        `Session ${sessionId}: seq ${seq} is above the stored reservation ${log.reservedSeq} ` +
          '(writes are failing); a crash now could reuse seqs',
      );
    }
    this.dirty.add(log);
    this.schedule();
    return wire;
  }

  /** The highest seq that may have been handed out for the session (0 if none). */
  latestSeq(sessionId: string): number {
    return this.requireOpen(sessionId).nextSeq - 1;
  }

  /**
   * Writes what is buffered (for one session, or all). Resolves once every event appended before
   * the call has been attempted; never rejects: a failed write keeps its events buffered for the
   * next attempt and is logged.
   */
  async flush(sessionId?: string): Promise<void> {
    if (sessionId === undefined) {
      await this.enqueue(() => this.write([...this.dirty], 'flush'));
      return;
    }
    const log = this.logs.get(sessionId);
    if (log) await this.enqueue(() => this.write([log], 'flush'));
  }

  /**
   * Every event with seq > `afterSeq`, in order and once each, or `complete: false` (with no
   * events) when the log cannot vouch for all of them: trimmed, lost in a crash or dropped during
   * an outage (`afterSeq` below the replay floor), or a cursor this log never handed out.
   *
   * Gap-free hand-over to live events: everything after the last `await` is synchronous. The
   * result holds every event appended before `deliver` runs and none appended after, so a caller
   * that, inside `deliver`, emits the events to the socket and joins it to the session's room
   * gets each event exactly once (older ones replayed, newer ones live). Doing that after
   * `await replay(...)` instead leaves a window of a few microtasks in which an append would be
   * missed. The events are the emitted objects themselves: do not mutate them.
   */
  async replay(
    sessionId: string,
    afterSeq: number,
    deliver?: (result: ReplayResult) => void,
  ): Promise<ReplayResult> {
    const log = this.requireOpen(sessionId);
    const committedMeanwhile: LoggedEvent[][] = [];
    let stored: LoggedEvent[] = [];
    let readFailed = false;
    if (this.needsStored(log, afterSeq)) {
      // A batch that commits after this point is handed to us; one committed before is read.
      log.watchers.add(committedMeanwhile);
      try {
        stored = await this.store.loadAfter(sessionId, afterSeq);
      } catch (error) {
        readFailed = true;
        this.logger.warn(
          `Replay of session ${sessionId} could not read the log: ${describe(error)}`,
        );
      } finally {
        log.watchers.delete(committedMeanwhile);
      }
    }
    // Final synchronous step: memory buffers are read here, after the last await.
    const current = this.logs.get(sessionId) ?? log;
    const result = readFailed
      ? incompleteReplay()
      : assembleReplay(afterSeq, current.nextSeq - 1, current.floor, [
          stored,
          ...committedMeanwhile,
          current.inFlight ?? [],
          current.pending,
        ]);
    deliver?.(result);
    return result;
  }

  /**
   * Deletes the stored batches that hold only events older than the newest `keep` seqs. Called
   * between runs, so the active run's events are never trimmed. Never rejects (logged instead).
   */
  async trim(sessionId: string, keep: number = this.options.window): Promise<void> {
    await this.enqueue(async () => {
      try {
        const log = this.logs.get(sessionId);
        const latest = log
          ? log.nextSeq - 1
          : ((await this.store.readHead(sessionId))?.lastStoredSeq ?? 0);
        const cutoff = latest - Math.max(0, keep);
        if (cutoff > 0) await this.store.deleteThrough(sessionId, cutoff);
      } catch (error) {
        this.logger.warn(`Trimming the event log of ${sessionId} failed: ${describe(error)}`);
      }
    });
  }

  /**
   * Writes everything, records the exact last seq (so the next open continues without a gap)
   * and frees the session's memory. Appends after this call throw until the next `open`. Rejects
   * when the write fails; the log then stays open and retries in the background.
   */
  close(sessionId: string): Promise<void> {
    const last = this.lifecycle.get(sessionId);
    if (last?.op === 'close') return last.promise;
    if (!last && !this.logs.has(sessionId)) return Promise.resolve();
    return this.step(sessionId, 'close', last, () => this.closeNow(sessionId));
  }

  /** Closes every open log in one write (shutdown). Never rejects; failures are logged. */
  async closeAll(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.lifecycle.values()].map((step) => step.promise));
    const logs = [...this.logs.values()];
    for (const log of logs) this.detach(log);
    const failed = await this.enqueue(() => this.write(logs, 'close'));
    for (const log of failed) this.attach(log);
    if (failed.length > 0) {
      this.logger.warn(
        `${failed.length} event logs could not be closed cleanly; ` +
          'their next open resumes above the reservation',
      );
    }
  }

  /**
   * Safety net only. The chat-run lifecycle calls `closeAll` in its `beforeApplicationShutdown`,
   * after the runs wrote their last events; a hook of ours at that stage could close the logs
   * under them. By now there is normally nothing left, and an empty close touches no database.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.closeAll();
  }

  // ---------------------------------------------------------------------------------------------

  private requireOpen(sessionId: string): SessionLog {
    const log = this.logs.get(sessionId);
    if (!log) throw new Error(`The event log of session ${sessionId} is not open`);
    return log;
  }

  private step(
    sessionId: string,
    op: LifecycleStep['op'],
    previous: LifecycleStep | undefined,
    run: () => Promise<void>,
  ): Promise<void> {
    // The previous step's failure went to its own caller; this one starts from what it left.
    const promise = previous ? previous.promise.then(run, run) : run();
    const step: LifecycleStep = { op, promise };
    this.lifecycle.set(sessionId, step);
    const settled = (): void => {
      if (this.lifecycle.get(sessionId) === step) this.lifecycle.delete(sessionId);
    };
    promise.then(settled, settled);
    return promise;
  }

  private async openNow(sessionId: string): Promise<void> {
    if (this.logs.has(sessionId)) return;
    const head = await this.store.readHead(sessionId);
    const stored = head?.lastStoredSeq ?? 0;
    const highest = Math.max(stored, head?.seqReserved ?? 0, head?.maxBatchSeq ?? 0);
    // A reservation above the stored seqs means the last process died without closing: seqs up
    // to it may have been sent but are not stored, so numbering resumes above and replays that
    // need them are incomplete.
    const floor = Math.max(head?.replayFloor ?? 0, highest > stored ? highest : 0);
    const log: SessionLog = {
      sessionId,
      nextSeq: highest + 1,
      storedSeq: highest,
      reservedSeq: highest + this.options.block,
      floor,
      floorDirty: false,
      pending: [],
      inFlight: null,
      watchers: new Set(),
      gone: false,
      warnedReservation: false,
    };
    // Durable before the first seq is handed out.
    await this.store.writeHeads([
      { sessionId, seqReserved: log.reservedSeq, lastStoredSeq: highest, replayFloor: floor },
    ]);
    this.attach(log);
  }

  private async closeNow(sessionId: string): Promise<void> {
    const log = this.logs.get(sessionId);
    if (!log) return;
    // Detached first: an append from now on fails loudly instead of going into a log whose
    // exact reservation is about to be written.
    this.detach(log);
    const failed = await this.enqueue(() => this.write([log], 'close'));
    if (failed.length > 0) {
      this.attach(log);
      throw new Error(`The event log of session ${sessionId} could not be written; it stays open`);
    }
  }

  private attach(log: SessionLog): void {
    this.logs.set(log.sessionId, log);
    if (log.pending.length > 0 || log.floorDirty) {
      this.dirty.add(log);
      this.schedule();
    }
  }

  private detach(log: SessionLog): void {
    this.logs.delete(log.sessionId);
    this.dirty.delete(log);
  }

  private needsStored(log: SessionLog, afterSeq: number): boolean {
    if (!Number.isSafeInteger(afterSeq) || afterSeq < log.floor || afterSeq >= log.nextSeq - 1) {
      return false;
    }
    const oldestInMemory = log.inFlight?.[0]?.seq ?? log.pending[0]?.seq;
    return oldestInMemory === undefined || oldestInMemory > afterSeq + 1;
  }

  /** Keeps half the limit; amortised O(1) per append. Replays across the drop are incomplete. */
  private dropOldest(log: SessionLog): void {
    const dropped = log.pending.length - Math.floor(this.options.maxPendingEvents / 2);
    log.floor = Math.max(log.floor, log.pending[dropped - 1].seq);
    log.floorDirty = true;
    log.pending = log.pending.slice(dropped);
    this.logger.warn(
      `Session ${log.sessionId}: dropped ${dropped} unwritten events (writes are failing); ` +
        `replays from before seq ${log.floor} are incomplete`,
    );
  }

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

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.writes.then(task);
    this.writes = run.then(
      () => undefined,
      // Tasks handle their own failures; reaching this is a bug, which must not stop the queue.
      (error: unknown) => this.logger.error(`Event log write task failed: ${describe(error)}`),
    );
    return run;
  }

  /** Writes the given logs; returns those whose events went back to the buffer. */
  private async write(logs: readonly SessionLog[], mode: 'flush' | 'close'): Promise<SessionLog[]> {
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
      jobs.push({ log, events, head: this.headFor(log, events, mode) });
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
      if (reachable && chunk.length > 1) {
        try {
          await this.store.write(batchRows([job]), [job.head]);
          this.committed(job);
          continue;
        } catch (error) {
          lastError = error;
        }
      }
      if (reachable) {
        try {
          if (!(await this.store.sessionExists(job.log.sessionId))) {
            this.discard(job);
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

  private headFor(
    log: SessionLog,
    events: readonly LoggedEvent[],
    mode: 'flush' | 'close',
  ): HeadRow {
    const { sessionId, floor } = log;
    if (mode === 'close') {
      // Everything handed out is in this write (or below the floor): the exact reservation.
      const last = log.nextSeq - 1;
      return { sessionId, seqReserved: last, lastStoredSeq: last, replayFloor: floor };
    }
    const lastStoredSeq = events.length > 0 ? events[events.length - 1].seq : log.storedSeq;
    return {
      sessionId,
      seqReserved: log.nextSeq - 1 + this.options.block,
      lastStoredSeq,
      replayFloor: floor,
    };
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
    if (log.pending.length > this.options.maxPendingEvents) this.dropOldest(log);
    if (this.logs.get(log.sessionId) === log) {
      this.dirty.add(log);
      this.schedule();
    }
  }

  /** The session row is gone and its stored log with it (cascade): stop keeping events. */
  private discard({ log }: WriteJob): void {
    log.gone = true;
    log.inFlight = null;
    log.pending = [];
    this.logger.log(`Session ${log.sessionId} was deleted; its event log is no longer kept`);
  }

  private reportOutcome(attempted: number, failed: number, error: unknown): void {
    if (failed > 0) {
      this.failureStreak++;
      if (this.failureStreak === 1 || this.failureStreak % FAILURE_LOG_EVERY === 0) {
        this.logger.warn(
          `Writing the event log failed for ${failed} of ${attempted} sessions ` +
            `(attempt ${this.failureStreak}); the events stay buffered: ${describe(error)}`,
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
