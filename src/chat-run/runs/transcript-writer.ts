import type { SqlExecutor } from '../../database/sql/sql-client';
import type { Message, MessageUpdate, NewMessage } from '../../sessions/session.types';
import type {
  CountedMessage,
  CountedUpdate,
  MessageAppend,
  TranscriptStore,
} from '../../sessions/transcript.store';
import { textAddedSince } from '../transcript/text-growth';
import type { DraftMessage, RunTranscript } from '../transcript/transcript.reducer';

/** What one write of a run's transcript stores: new drafts and drafts that changed. */
export interface TranscriptWrite {
  readonly sessionId: string;
  readonly inserts: readonly CountedMessage[];
  /** Drafts rewritten whole: every draft of a final write, any other change elsewhere. */
  readonly updates: readonly CountedUpdate[];
  /** Drafts whose text only grew since they were stored, before the final write. */
  readonly appends: readonly MessageAppend[];
  /** The drafts as this write stores them, by draft index. */
  readonly drafts: readonly DraftMessage[];
  /** Token counts of every draft, by draft index (a final write only). */
  readonly tokenCounts: readonly number[] | null;
}

/**
 * One run's folded transcript on its way to the store: new drafts are inserted, drafts that
 * changed since the last write (a new object, thanks to the reducer's structural sharing) are
 * updated. While the run streams, a draft whose text only grew gets what was added appended, so
 * that a long reply's periodic writes cost what streamed since the last one; the final write
 * rewrites every draft whole (normalised, with its token count). A write is planned (token
 * counts are taken here, for a final write), applied inside a transaction, and only recorded as
 * written once that transaction has committed, so that a transaction that is rolled back and
 * run again writes the same rows and appends the same text once.
 */
export class TranscriptWriter {
  private readonly ids: number[] = [];
  private readonly written: DraftMessage[] = [];

  constructor(
    private readonly transcripts: TranscriptStore,
    private readonly sessionId: string,
    private readonly runId: string,
  ) {}

  /** Store ids of the drafts written so far, by draft index. */
  get storedIds(): readonly number[] {
    return this.ids;
  }

  /** Takes over messages a previous process stored for this run (recovery after a restart). */
  adopt(stored: readonly Message[], drafts: readonly DraftMessage[]): void {
    stored.forEach((message, index) => {
      this.ids.push(message.id);
      this.written.push(drafts[index]);
    });
  }

  /**
   * What `transcript` needs written now; `null` when nothing changed. A final write rewrites
   * every draft with its token count (drafts streamed so far were stored uncounted).
   */
  async plan(transcript: RunTranscript, final: boolean): Promise<TranscriptWrite | null> {
    const drafts = transcript.messages;
    const changed: number[] = [];
    for (let i = 0; i < this.ids.length; i++) {
      if (final || drafts[i] !== this.written[i]) changed.push(i);
    }
    if (changed.length === 0 && drafts.length === this.ids.length) return null;
    // A draft still streaming is counted once, by the final write.
    const counts = final
      ? await Promise.all(drafts.map((draft) => this.transcripts.countOf(draft)))
      : null;
    const updates: CountedUpdate[] = [];
    const appends: MessageAppend[] = [];
    for (const i of changed) {
      const id = this.ids[i];
      const tails = final ? null : tailsOf(this.written[i], drafts[i]);
      if (tails) appends.push({ id, ...tails, ...shapeOf(drafts[i]) });
      else updates.push({ id, ...fields(drafts[i]), ...(counts ? { tokenCount: counts[i] } : {}) });
    }
    const inserts = drafts.slice(this.ids.length).map((draft, offset): CountedMessage => ({
      ...fields(draft),
      role: draft.role,
      runId: this.runId,
      tokenCount: counts?.[this.ids.length + offset] ?? 0,
    }));
    return {
      sessionId: this.sessionId,
      inserts,
      updates,
      appends,
      drafts: [...drafts],
      tokenCounts: counts,
    };
  }

  /** Stores a planned write inside `tx`; resolves to the ids of the inserted drafts. */
  async apply(tx: SqlExecutor, write: TranscriptWrite, at: number): Promise<number[]> {
    await this.transcripts.updateMessages(tx, write.sessionId, [
      ...write.updates,
      ...write.appends,
    ]);
    return this.transcripts.insertMessages(tx, write.sessionId, write.inserts, at);
  }

  /** Records a write as stored, once its transaction has committed. */
  committed(write: TranscriptWrite, insertedIds: readonly number[]): void {
    this.ids.push(...insertedIds);
    write.drafts.forEach((draft, index) => (this.written[index] = draft));
  }
}

/**
 * What `after` added to the text and reasoning of `before` (as stored), or null when it is not
 * `before` with text added (then the draft is rewritten whole). Known from the reducer's record
 * of how the draft grew; failing that, found by comparing the texts (which reads them whole).
 */
function tailsOf(
  before: DraftMessage,
  after: DraftMessage,
): Pick<MessageAppend, 'contentTail' | 'reasoningTail'> | null {
  const added = textAddedSince(after, before);
  if (added) {
    const reasoningTail = after.reasoning === null ? null : added.reasoning;
    return { contentTail: added.content, reasoningTail };
  }
  if (!after.content.startsWith(before.content)) return null;
  const contentTail = after.content.slice(before.content.length);
  if (after.reasoning === null)
    return before.reasoning === null ? { contentTail, reasoningTail: null } : null;
  const stored = before.reasoning ?? '';
  if (!after.reasoning.startsWith(stored)) return null;
  return { contentTail, reasoningTail: after.reasoning.slice(stored.length) };
}

function fields(draft: DraftMessage): Omit<CountedUpdate, 'id'> & Omit<NewMessage, 'role'> {
  return { content: draft.content, reasoning: draft.reasoning, ...shapeOf(draft) };
}

/** A draft's fields other than its text, set as they are by every kind of write. */
function shapeOf(draft: DraftMessage): Omit<MessageUpdate, 'id' | 'content' | 'reasoning'> {
  return {
    toolCalls: draft.toolCalls,
    toolCallId: draft.toolCallId,
    toolName: draft.toolName,
    finishReason: draft.finishReason,
  };
}
