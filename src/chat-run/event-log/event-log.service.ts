import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { SessionLeases } from '../../cluster/session-leases';
import { GroupCommit } from '../../database/sql/group-commit';
import { SqlClient, type SqlExecutor } from '../../database/sql/sql-client';
import { TranscriptStore } from '../../sessions/transcript.store';
import { EVENT_LOG_OPTIONS, EventLogOptions, resolveEventLogOptions } from './event-log.options';
import { EventLogReplayer } from './event-log.replayer';
import { EventLogStore } from './event-log.store';
import { EventLogWriter } from './event-log.writer';
import { LifecycleQueue } from './lifecycle-queue';
import { LoggedEvent, ReplayResult } from './logged-event';
import { boundPending, openingHead, SessionLog, sessionLogFromHead } from './session-log';
import { errorMessage } from '../../common/errors/error-message';

export type { LoggedEvent, ReplayResult } from './logged-event';

/**
 * Per-session sequence numbers and the stored log of room events, for exact replay.
 *
 * `append` is synchronous and O(1): it numbers the event, buffers it and arms one shared timer.
 * Every `flushIntervalMs` the buffers of all dirty sessions are written, one batch row per
 * session, through a single ordered write queue. Seq numbers survive crashes through a
 * reservation: the head row always holds an upper bound of the seqs that may have been sent, and
 * a log reopened after a crash continues above it and marks everything below as a replay floor.
 *
 * This class holds the open logs and their lifecycle; the batched writes are `EventLogWriter`'s,
 * the reads for replay `EventLogReplayer`'s, and the seq reservation is in `session-log.ts`.
 */
@Injectable()
export class EventLog implements OnApplicationShutdown {
  private readonly logger = new Logger(EventLog.name);
  private readonly options: EventLogOptions;
  private readonly store: EventLogStore;
  private readonly writer: EventLogWriter;
  private readonly replayer: EventLogReplayer;
  private readonly logs = new Map<string, SessionLog>();
  private readonly lifecycle = new LifecycleQueue();

  constructor(
    sql: SqlClient,
    commit: GroupCommit,
    sessions: TranscriptStore,
    leases: SessionLeases,
    @Optional() @Inject(EVENT_LOG_OPTIONS) options?: Partial<EventLogOptions>,
  ) {
    this.options = resolveEventLogOptions(options);
    this.store = new EventLogStore(sql, commit, leases);
    this.writer = new EventLogWriter(
      this.store,
      this.options,
      this.logger,
      (log) => this.logs.get(log.sessionId) === log,
      async (sessionId) => (await sessions.facts(sessionId)) !== null,
    );
    this.replayer = new EventLogReplayer(this.store, this.logger);
  }

  /**
   * Loads the session's head and reserves seqs before any is handed out. Idempotent; concurrent
   * calls share one promise, and an open queued behind a `close` reopens after it. The session
   * row must exist.
   */
  open(sessionId: string): Promise<void> {
    const last = this.lifecycle.last(sessionId);
    if (last?.op === 'open') return last.promise;
    if (!last && this.logs.has(sessionId)) return Promise.resolve();
    return this.lifecycle.enqueue(sessionId, 'open', () => this.openNow(sessionId));
  }

  /**
   * Opens the log of a session that the caller's transaction creates: there is nothing stored
   * to read. `write` belongs in that transaction (it makes the seq reservation durable with the
   * session); `attach` is called once it has committed, and only then are seqs handed out.
   */
  openCreated(sessionId: string): {
    write: (tx: SqlExecutor) => Promise<void>;
    attach: () => void;
  } {
    const log = sessionLogFromHead(sessionId, null, this.options.block);
    return {
      write: (tx) => this.store.writeIn(tx, [], [openingHead(log)]),
      attach: () => {
        if (!this.logs.has(sessionId)) this.attach(log);
      },
    };
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
    boundPending(log, this.options.maxPendingEvents, this.logger);
    if (seq > log.reservedSeq && !log.warnedReservation) {
      log.warnedReservation = true;
      this.logger.warn(
        `Session ${sessionId}: seq ${seq} is above the stored reservation ${log.reservedSeq} ` +
          '(writes are failing); a crash now could reuse seqs',
      );
    }
    this.writer.markDirty(log);
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
      await this.writer.flushDirty();
      return;
    }
    const log = this.logs.get(sessionId);
    if (log) await this.writer.writeLogs([log], 'flush');
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
    return this.replayer.replay(log, afterSeq, () => this.logs.get(sessionId), deliver);
  }

  /**
   * Deletes the stored batches that hold only events older than the newest `keep` seqs. Called
   * between runs, so the active run's events are never trimmed. Never rejects (logged instead).
   */
  async trim(sessionId: string, keep: number = this.options.window): Promise<void> {
    await this.writer.enqueue(async () => {
      try {
        const log = this.logs.get(sessionId);
        const latest = log
          ? log.nextSeq - 1
          : ((await this.store.readHead(sessionId))?.lastStoredSeq ?? 0);
        const cutoff = latest - Math.max(0, keep);
        if (cutoff > 0) await this.store.deleteThrough(sessionId, cutoff);
      } catch (error) {
        this.logger.warn(`Trimming the event log of ${sessionId} failed: ${errorMessage(error)}`);
      }
    });
  }

  /**
   * Writes everything, records the exact last seq (so the next open continues without a gap)
   * and frees the session's memory. Appends after this call throw until the next `open`. Rejects
   * when the write fails; the log then stays open and retries in the background.
   */
  close(sessionId: string): Promise<void> {
    const last = this.lifecycle.last(sessionId);
    if (last?.op === 'close') return last.promise;
    if (!last && !this.logs.has(sessionId)) return Promise.resolve();
    return this.lifecycle.enqueue(sessionId, 'close', () => this.closeNow(sessionId));
  }

  /**
   * Forgets a session's log without writing it: its session row was deleted (and its stored
   * log with it), and whatever comes next starts from the store again.
   */
  discard(sessionId: string): void {
    const log = this.logs.get(sessionId);
    if (!log) return;
    log.gone = true;
    this.detach(log);
  }

  /** Closes every open log in one write (shutdown). Never rejects; failures are logged. */
  async closeAll(): Promise<void> {
    this.writer.stopTimer();
    await this.lifecycle.settled();
    const logs = [...this.logs.values()];
    for (const log of logs) this.detach(log);
    const failed = await this.writer.writeLogs(logs, 'close');
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

  private async openNow(sessionId: string): Promise<void> {
    if (this.logs.has(sessionId)) return;
    const head = await this.store.readHead(sessionId);
    const log = sessionLogFromHead(sessionId, head, this.options.block);
    // Durable before the first seq is handed out.
    await this.store.write([], [openingHead(log)]);
    this.attach(log);
  }

  private async closeNow(sessionId: string): Promise<void> {
    const log = this.logs.get(sessionId);
    if (!log) return;
    // Detached first: an append from now on fails loudly instead of going into a log whose
    // exact reservation is about to be written.
    this.detach(log);
    const failed = await this.writer.writeLogs([log], 'close');
    if (failed.length > 0) {
      this.attach(log);
      throw new Error(`The event log of session ${sessionId} could not be written; it stays open`);
    }
  }

  private attach(log: SessionLog): void {
    this.logs.set(log.sessionId, log);
    if (log.pending.length > 0 || log.floorDirty) this.writer.markDirty(log);
  }

  private detach(log: SessionLog): void {
    this.logs.delete(log.sessionId);
    this.writer.forget(log);
  }
}
