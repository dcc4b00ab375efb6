import { nowMs, Samples } from './stats';

/** One reader of one run's deltas (a client socket in a session's room, or an SSE stream). */
export interface StreamState {
  readonly seen: Uint8Array;
  expectedNext: number;
  received: number;
  outOfOrder: number;
  duplicates: number;
  lastSeq: number;
  seqRegressions: number;
  completed: boolean;
}

/**
 * Counts every delta of every stream of one measurement: relay latency (the fake's `sent_at`
 * stamp to receipt here, both wall clock in fractional ms), loss, duplicates and order. The
 * delta text starts with its index (`{i}:…`), so order is checked on the content itself, and
 * `seq` (gateway only) must strictly increase.
 */
export class StreamTracker {
  readonly latencies = new Samples();
  private readonly streams: StreamState[] = [];
  private remaining = 0;
  private resolveAll: (() => void) | undefined;
  readonly allCompleted: Promise<void>;
  firstReceiptMs = Infinity;
  lastReceiptMs = 0;

  constructor(readonly deltasPerStream: number) {
    this.allCompleted = new Promise((resolve) => (this.resolveAll = resolve));
  }

  open(): StreamState {
    const state: StreamState = {
      seen: new Uint8Array(this.deltasPerStream),
      expectedNext: 0,
      received: 0,
      outOfOrder: 0,
      duplicates: 0,
      lastSeq: 0,
      seqRegressions: 0,
      completed: false,
    };
    this.streams.push(state);
    this.remaining++;
    return state;
  }

  /** Call first thing in the handler: the receipt time is taken here. */
  delta(state: StreamState, text: unknown, sentAt: unknown, seq?: unknown): void {
    const receivedAt = nowMs();
    if (typeof sentAt === 'number') this.latencies.add(receivedAt - sentAt);
    if (receivedAt < this.firstReceiptMs) this.firstReceiptMs = receivedAt;
    this.lastReceiptMs = receivedAt;
    const index = typeof text === 'string' ? parseInt(text, 10) : NaN;
    state.received++;
    if (index !== state.expectedNext) state.outOfOrder++;
    if (index >= 0 && index < state.seen.length) {
      if (state.seen[index]) state.duplicates++;
      state.seen[index] = 1;
      state.expectedNext = index + 1;
    }
    if (typeof seq === 'number') {
      if (seq <= state.lastSeq) state.seqRegressions++;
      state.lastSeq = seq;
    }
  }

  complete(state: StreamState): void {
    if (state.completed) return;
    state.completed = true;
    if (--this.remaining === 0) this.resolveAll?.();
  }

  get streamCount(): number {
    return this.streams.length;
  }

  get completedCount(): number {
    return this.streams.length - this.remaining;
  }

  totals(): {
    streams: number;
    completed: number;
    expected: number;
    delivered: number;
    lost: number;
    duplicates: number;
    outOfOrder: number;
    seqRegressions: number;
  } {
    let delivered = 0;
    let lost = 0;
    let duplicates = 0;
    let outOfOrder = 0;
    let seqRegressions = 0;
    for (const s of this.streams) {
      delivered += s.received;
      let distinct = 0;
      for (const v of s.seen) distinct += v;
      lost += s.seen.length - distinct;
      duplicates += s.duplicates;
      outOfOrder += s.outOfOrder;
      seqRegressions += s.seqRegressions;
    }
    return {
      streams: this.streams.length,
      completed: this.completedCount,
      expected: this.streams.length * this.deltasPerStream,
      delivered,
      lost,
      duplicates,
      outOfOrder,
      seqRegressions,
    };
  }
}
