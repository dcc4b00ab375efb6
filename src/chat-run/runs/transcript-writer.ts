import type { SessionRepository } from '../../sessions/session.repository';
import type { Message, MessageUpdate, NewMessage } from '../../sessions/session.types';
import type { DraftMessage, RunTranscript } from '../transcript/transcript.reducer';

/**
 * Writes one run's folded transcript to the store as it grows: new draft messages are inserted,
 * drafts that changed since the last write (a new object, thanks to the reducer's structural
 * sharing) are updated. Writes are serialised so a slow one never races the next.
 */
export class TranscriptWriter {
  private readonly ids: number[] = [];
  private readonly written: DraftMessage[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: SessionRepository,
    private readonly sessionId: string,
    private readonly runId: string,
  ) {}

  /** Store ids of the drafts written so far, by draft index. */
  get storedIds(): readonly number[] {
    return this.ids;
  }

  /** Takes over messages a previous process stored for this run (recovery after a restart). */
  adopt(stored: readonly Message[], drafts: readonly DraftMessage[]): void {
    stored
      .filter((message) => message.role !== 'user')
      .forEach((message, index) => {
        this.ids.push(message.id);
        this.written.push(drafts[index]);
      });
  }

  write(transcript: RunTranscript, final: boolean): Promise<void> {
    const next = this.chain.then(() => this.writeNow(transcript.messages, final));
    // A failed write is reported to this caller; the chain itself stays usable.
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async writeNow(drafts: readonly DraftMessage[], final: boolean): Promise<void> {
    const updates: MessageUpdate[] = [];
    for (let i = 0; i < this.ids.length; i++) {
      if (drafts[i] !== this.written[i] || final)
        updates.push({ id: this.ids[i], ...fields(drafts[i]) });
    }
    const fresh = drafts.slice(this.ids.length);
    if (updates.length > 0) await this.repository.updateMessages(this.sessionId, updates, final);
    if (fresh.length > 0) {
      const stored = await this.repository.appendMessages(
        this.sessionId,
        fresh.map((draft): NewMessage => ({
          ...fields(draft),
          role: draft.role,
          runId: this.runId,
        })),
        // A partial draft is counted once, by the final write.
        { countTokens: final },
      );
      for (const message of stored) this.ids.push(message.id);
    }
    for (let i = 0; i < drafts.length; i++) this.written[i] = drafts[i];
  }
}

function fields(draft: DraftMessage): Omit<MessageUpdate, 'id'> {
  return {
    content: draft.content,
    reasoning: draft.reasoning,
    toolCalls: draft.toolCalls,
    toolCallId: draft.toolCallId,
    toolName: draft.toolName,
    finishReason: draft.finishReason,
  };
}
