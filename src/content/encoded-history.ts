import { EncodedJson } from '../common/json/encoded-json';
import type { HistoryMessage } from '../sessions/session.types';
import { renderHistory, type HistoryTurn } from './conversation-history';

const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');
const INITIAL_CAPACITY = 64 * 1024;

/** A run's `conversation_history`, encoded as JSON; `length` is its number of turns. */
export class EncodedHistory extends EncodedJson<HistoryTurn[]> {
  constructor(
    pieces: readonly Buffer[],
    readonly length: number,
  ) {
    super(pieces);
  }

  /** The turns themselves, decoded. */
  turns(): HistoryTurn[] {
    return this.toJSON();
  }
}

/**
 * Encodes a session's history for one run after another, rendering and encoding only the
 * messages stored since the previous run: on a session of 5,000 turns, rendering and
 * serialising the whole history again was most of what starting a run cost the event loop.
 *
 * It holds the encoding of the messages it was last given. A list that extends them (the same
 * message objects first, as a session's `HistoryWindow` hands out) has only its new messages
 * rendered and appended; any other list is encoded from scratch. So is one whose new messages
 * would pair with older ones (a new assistant message declaring a call id the older messages
 * declare or answer: stored out of order), since pairing can move an older tool result. The
 * result is always exactly `toConversationHistory` of the list, encoded.
 */
export class HistoryEncoder {
  private first: HistoryMessage | undefined;
  private last: HistoryMessage | undefined;
  private messages = 0;
  private turns = 0;
  private readonly ids = new Set<string>();
  /** The turns' JSON, comma-separated, without brackets, in `bytes[0, used)`. */
  private bytes = Buffer.alloc(0);
  private used = 0;

  /** `toConversationHistory(messages)`, led by `lead` when given (a summary), as JSON. */
  encode(messages: readonly HistoryMessage[], lead?: HistoryTurn): EncodedHistory {
    if (!this.isExtendedBy(messages)) this.reset();
    if (messages.length > this.messages && !this.append(messages.slice(this.messages))) {
      this.reset();
      this.append(messages);
    }
    this.first = messages[0];
    this.last = messages.at(-1);
    this.messages = messages.length;
    // A view: later appends write only past `used`, and a reset starts a new buffer.
    const body = this.bytes.subarray(0, this.used);
    if (!lead) return new EncodedHistory([OPEN, body, CLOSE], this.turns);
    const head = Buffer.from(`[${JSON.stringify(lead)}${this.turns > 0 ? ',' : ''}`, 'utf8');
    return new EncodedHistory([head, body, CLOSE], this.turns + 1);
  }

  /** Forgets everything (the next list is encoded from scratch). */
  reset(): void {
    this.first = undefined;
    this.last = undefined;
    this.messages = 0;
    this.turns = 0;
    this.ids.clear();
    this.bytes = Buffer.alloc(0);
    this.used = 0;
  }

  private isExtendedBy(messages: readonly HistoryMessage[]): boolean {
    if (this.messages === 0) return true;
    return (
      messages.length >= this.messages &&
      messages[0] === this.first &&
      messages[this.messages - 1] === this.last
    );
  }

  /** Renders and appends `added`; false (nothing changed) when they pair with older messages. */
  private append(added: readonly HistoryMessage[]): boolean {
    const rendered = renderHistory(added);
    for (const id of rendered.declared) if (this.ids.has(id)) return false;
    for (const id of rendered.declared) this.ids.add(id);
    for (const id of rendered.answered) this.ids.add(id);
    if (rendered.turns.length === 0) return true;
    // One native serialisation for the lot (all of it, when starting from scratch).
    const json = JSON.stringify(rendered.turns);
    if (this.turns > 0) this.write(',');
    this.write(json.slice(1, -1));
    this.turns += rendered.turns.length;
    return true;
  }

  private write(json: string): void {
    const length = Buffer.byteLength(json, 'utf8');
    if (this.used + length > this.bytes.length) {
      const grown = Buffer.allocUnsafe(
        Math.max(INITIAL_CAPACITY, 2 * this.bytes.length, this.used + length),
      );
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    this.used += this.bytes.write(json, this.used, 'utf8');
  }
}
