/** An event as sent to a session's room: the payload tagged with `event`, `session_id`, `seq`. */
export type LoggedEvent = Record<string, unknown> & {
  event: string;
  session_id: string;
  seq: number;
};

export interface ReplayResult {
  /**
   * Every event after the requested seq is in `events`. When false, `events` is empty: a partial
   * replay is of no use to a client, which rebuilds from the stored messages instead.
   */
  complete: boolean;
  events: LoggedEvent[];
}

const INCOMPLETE: ReplayResult = Object.freeze({ complete: false, events: [] as LoggedEvent[] });

export const incompleteReplay = (): ReplayResult => ({ ...INCOMPLETE, events: [] });

/**
 * The events in (afterSeq, latest], each once and in seq order, taken from sources that may
 * overlap (stored batches, batches being written, the memory buffer). Seqs above the replay floor
 * are consecutive, so the replay is complete exactly when every slot is filled: a trimmed prefix,
 * a lost batch or a race with a write all show up as a hole instead of a silent gap.
 *
 * A cursor above `latest` was not handed out by this log (a restored database, a recreated
 * session); it is reported incomplete so the client rebuilds rather than trusting its state.
 */
export function assembleReplay(
  afterSeq: number,
  latest: number,
  floor: number,
  sources: readonly (readonly LoggedEvent[])[],
): ReplayResult {
  if (!Number.isSafeInteger(afterSeq) || afterSeq < floor || afterSeq > latest) {
    return incompleteReplay();
  }
  const wanted = latest - afterSeq;
  if (wanted === 0) return { complete: true, events: [] };
  // Bounds the slot array by what is actually held, whatever the cursor.
  const held = sources.reduce((sum, source) => sum + source.length, 0);
  if (held < wanted) return incompleteReplay();
  const slots = new Array<LoggedEvent | undefined>(wanted);
  let filled = 0;
  for (const source of sources) {
    for (const event of source) {
      const index = event.seq - afterSeq - 1;
      if (index < 0 || index >= wanted || slots[index] !== undefined) continue;
      slots[index] = event;
      filled++;
    }
  }
  if (filled < wanted) return incompleteReplay();
  return { complete: true, events: slots as LoggedEvent[] };
}

/** Parses a stored batch, keeping only well-formed events (the column is plain text). */
export function parseBatch(json: string): LoggedEvent[] {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(isLoggedEvent);
}

function isLoggedEvent(value: unknown): value is LoggedEvent {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.event === 'string' &&
    typeof candidate.session_id === 'string' &&
    Number.isSafeInteger(candidate.seq)
  );
}
