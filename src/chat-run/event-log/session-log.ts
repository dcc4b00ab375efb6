import type { Logger } from '@nestjs/common';
import type { HeadRow, StoredHead } from './event-log.store';
import type { LoggedEvent } from './logged-event';

/** The in-memory side of one open session's log. */
export interface SessionLog {
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

/** `flush` writes what is buffered; `close` also records the exact last seq. */
export type WriteMode = 'flush' | 'close';

/**
 * The log of a session being opened, numbered from its stored head, with `block` seqs reserved
 * ahead. The returned log's head must be written (`openingHead`) before any seq is handed out.
 */
export function sessionLogFromHead(
  sessionId: string,
  head: StoredHead | null,
  block: number,
): SessionLog {
  const stored = head?.lastStoredSeq ?? 0;
  const highest = Math.max(stored, head?.seqReserved ?? 0, head?.maxBatchSeq ?? 0);
  // A reservation above the stored seqs means the last process died without closing: seqs up
  // to it may have been sent but are not stored, so numbering resumes above and replays that
  // need them are incomplete.
  const floor = Math.max(head?.replayFloor ?? 0, highest > stored ? highest : 0);
  return {
    sessionId,
    nextSeq: highest + 1,
    storedSeq: highest,
    reservedSeq: highest + block,
    floor,
    floorDirty: false,
    pending: [],
    inFlight: null,
    watchers: new Set(),
    gone: false,
    warnedReservation: false,
  };
}

/** The head row that makes a freshly opened log's reservation durable. */
export function openingHead(log: SessionLog): HeadRow {
  return {
    sessionId: log.sessionId,
    seqReserved: log.reservedSeq,
    lastStoredSeq: log.storedSeq,
    replayFloor: log.floor,
  };
}

/** The head row written together with `events`, the batch taken from the log's buffer. */
export function headFor(
  log: SessionLog,
  events: readonly LoggedEvent[],
  mode: WriteMode,
  block: number,
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
    seqReserved: log.nextSeq - 1 + block,
    lastStoredSeq,
    replayFloor: floor,
  };
}

/**
 * Keeps the unwritten buffer bounded while writes fail: past `maxPendingEvents` it keeps half
 * the limit (amortised O(1) per append), and replays across the drop are incomplete.
 */
export function boundPending(log: SessionLog, maxPendingEvents: number, logger: Logger): void {
  if (log.pending.length <= maxPendingEvents) return;
  const dropped = log.pending.length - Math.floor(maxPendingEvents / 2);
  log.floor = Math.max(log.floor, log.pending[dropped - 1].seq);
  log.floorDirty = true;
  log.pending = log.pending.slice(dropped);
  logger.warn(
    `Session ${log.sessionId}: dropped ${dropped} unwritten events (writes are failing); ` +
      `replays from before seq ${log.floor} are incomplete`,
  );
}
