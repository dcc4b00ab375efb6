import type {
  ContextEstimate,
  HistoryMessage,
  Message,
  MessageUpdate,
  MessagePage,
  MessagePageQuery,
  NewMessage,
  NewSession,
  Page,
  SearchHit,
  Session,
  SessionListQuery,
  SessionPatch,
  TranscriptTokens,
} from './session.types';

export interface AppendOptions {
  /**
   * `false` for a draft still streaming: it is stored with `token_count` 0 and counted by the
   * final `updateMessages`, once its text no longer changes. Default `true`.
   */
  countTokens?: boolean;
}

/**
 * The port through which everything reads and writes sessions and messages. It is an abstract
 * class so that it can be the DI token; {@link TypeOrmSessionRepository} implements it.
 * Methods that take a session id throw `AppError('unknown_session')` when it does not exist.
 */
export abstract class SessionRepository {
  /** Throws `session_exists` when the id is taken. */
  abstract create(input: NewSession): Promise<Session>;

  abstract findById(id: string): Promise<Session | null>;

  /** The sessions among `ids` that exist, in no particular order. */
  abstract findManyByIds(ids: readonly string[]): Promise<Session[]>;

  /** Most recently active first; `cursor` comes from the previous page. */
  abstract list(query: SessionListQuery): Promise<Page<Session>>;

  abstract search(text: string, limit: number): Promise<SearchHit[]>;

  abstract update(id: string, patch: SessionPatch): Promise<Session>;

  /** Deletes the session and, by cascade, everything stored under it. */
  abstract delete(id: string): Promise<void>;

  /**
   * Stores messages in transcript order and updates the session's counters, `last_active`
   * and `preview` in the same transaction. Token counts are computed here, once.
   */
  abstract appendMessages(
    sessionId: string,
    messages: NewMessage[],
    options?: AppendOptions,
  ): Promise<Message[]>;

  /**
   * Rewrites messages of the run in progress (batched partial flushes). Token counts are
   * computed only when `final` is set, once the text no longer changes.
   */
  abstract updateMessages(
    sessionId: string,
    updates: MessageUpdate[],
    final: boolean,
  ): Promise<void>;

  /** Every message after `afterId` (0: all), in order. */
  abstract messagesAfter(sessionId: string, afterId: number): Promise<Message[]>;

  /**
   * The messages with `afterId < id <= throughId`, in order, with only what a run's history
   * needs: the input of the next run, read from the compression snapshot onwards.
   */
  abstract historyBetween(
    sessionId: string,
    afterId: number,
    throughId: number,
  ): Promise<HistoryMessage[]>;

  /** Sums of the stored token counts after `afterId`: no text is read or tokenised. */
  abstract tokensAfter(sessionId: string, afterId: number): Promise<TranscriptTokens>;

  /** Stores the latest context estimate on the session row (read back by `resume`). */
  abstract setContextEstimate(sessionId: string, estimate: ContextEstimate): Promise<void>;

  /** One page of the transcript, newest page first, in chronological order. */
  abstract listMessages(sessionId: string, query: MessagePageQuery): Promise<MessagePage>;

  /** The whole transcript in order, a page at a time (exports of long sessions). */
  abstract streamMessages(sessionId: string, pageSize?: number): AsyncIterable<Message[]>;
}
