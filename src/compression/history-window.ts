import { HistoryEncoder } from '../content/encoded-history';
import type { ContextEstimate, HistoryMessage } from '../sessions/session.types';

/** Reads the first `limit` messages with `afterId < id <= throughId`, in order. */
export type HistoryLoader = (
  afterId: number,
  throughId: number,
  limit: number,
) => Promise<HistoryMessage[]>;

/**
 * Messages read (and encoded) at a time when the window starts over: a long session's first run
 * after a start reads thousands, and reading and encoding them at once held the event loop for
 * ~100 ms (every other session's deltas waited); page by page, each read gives way to the rest.
 */
export const HISTORY_PAGE = 500;

/**
 * The messages after a session's snapshot, as the last run read them, kept with the session
 * while it is in use (and dropped with it): the next run reads only the messages stored since,
 * so starting a run costs the same on a session of ten turns and of ten thousand.
 *
 * It is valid only while three things hold, all checked on every read: the snapshot boundary
 * is the same, the session is the same incarnation (a deleted and re-created session gets new
 * rows with the same id), and reads only move forward. Anything else starts it over from the
 * store. Messages are final once a later run reads past them: a run's messages are written
 * before the next run of the session starts.
 *
 * Its `encoder` keeps the history of these messages encoded as JSON, extended run by run, and
 * `tokens` their stored token counts added up, as they are read.
 */
export class HistoryWindow {
  readonly encoder = new HistoryEncoder();
  private boundary = -1;
  private incarnation: number | undefined;
  private throughId = 0;
  private rows: HistoryMessage[] = [];
  private userTokens = 0;
  private otherTokens = 0;
  /** Counts resets: a read that finds one happened while it waited for a page starts over. */
  private generation = 0;

  /** The stored token counts of the messages read: user turns, then the others. */
  get tokens(): ContextEstimate {
    return { inputTokens: this.userTokens, outputTokens: this.otherTokens };
  }

  /**
   * The messages after `boundary` up to and including `throughId`. The array is shared with
   * the window: callers must not change it.
   */
  async read(
    load: HistoryLoader,
    boundary: number,
    incarnation: number,
    throughId: number,
  ): Promise<readonly HistoryMessage[]> {
    if (
      boundary !== this.boundary ||
      incarnation !== this.incarnation ||
      throughId < this.throughId
    ) {
      this.reset();
      this.boundary = boundary;
      this.incarnation = incarnation;
      this.throughId = boundary;
    }
    const generation = this.generation;
    // One run per session at a time: nothing else reads this window meanwhile. It may be reset
    // meanwhile (the session was deleted and created again): then what was read is void.
    while (throughId > this.throughId) {
      const page = await load(this.throughId, throughId, HISTORY_PAGE);
      if (this.generation !== generation) return this.read(load, boundary, incarnation, throughId);
      for (const row of page) this.add(row);
      if (page.length < HISTORY_PAGE) {
        this.throughId = throughId;
        break;
      }
      this.throughId = page[page.length - 1].id;
      // Encoded now, between reads, rather than all at once when the run assembles its
      // history; the last message read stays out (it may be the run's own input).
      this.encoder.encode(this.rows.slice(0, -1));
    }
    return this.rows;
  }

  /**
   * Starts the window of a session created just now, whose only message is `rows` (the first
   * run's user message): the next read needs nothing from the store.
   */
  startFresh(incarnation: number, rows: HistoryMessage[]): void {
    this.reset();
    this.boundary = 0;
    this.incarnation = incarnation;
    for (const row of rows) this.add(row);
    this.throughId = rows.at(-1)?.id ?? 0;
  }

  /** Forgets everything, e.g. when a run's messages could not be written as they ended. */
  reset(): void {
    this.generation++;
    this.encoder.reset();
    this.boundary = -1;
    this.incarnation = undefined;
    this.throughId = 0;
    this.rows = [];
    this.userTokens = 0;
    this.otherTokens = 0;
  }

  private add(row: HistoryMessage): void {
    this.rows.push(row);
    if (row.role === 'user') this.userTokens += row.tokenCount;
    else this.otherTokens += row.tokenCount;
  }
}
