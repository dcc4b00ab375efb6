/**
 * Where a client keeps the last `seq` it has seen of each session, and the rule that turns it
 * into "exactly once": an event at or below the cursor was seen before and is dropped, and a
 * snapshot (`resumed` without an exact replay) moves the cursor to the snapshot's seq.
 */

/** Storage of the cursors: in memory by default; a browser can keep them in `localStorage`. */
export interface SeqStore {
  get(sessionId: string): number | undefined;
  set(sessionId: string, seq: number): void;
}

export class MemorySeqStore implements SeqStore {
  private readonly seqs = new Map<string, number>();

  get(sessionId: string): number | undefined {
    return this.seqs.get(sessionId);
  }

  set(sessionId: string, seq: number): void {
    this.seqs.set(sessionId, seq);
  }
}

export class SessionCursors {
  constructor(private readonly store: SeqStore = new MemorySeqStore()) {}

  /** The last seq seen of the session, if any. */
  last(sessionId: string): number | undefined {
    return this.store.get(sessionId);
  }

  /** `true` (and the cursor moves) for an event not seen yet; `false` for a duplicate. */
  admit(sessionId: string, seq: number): boolean {
    const last = this.store.get(sessionId);
    if (last !== undefined && seq <= last) return false;
    this.store.set(sessionId, seq);
    return true;
  }

  /** The client rebuilt the session from a snapshot: live events continue after its seq. */
  rebase(sessionId: string, seq: number): void {
    this.store.set(sessionId, seq);
  }
}
