import type {
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
  UsageDelta,
} from './session.types';

/**
 * The port through which everything reads and writes sessions and messages. It is an abstract
 * class so that it can be the DI token; {@link TypeOrmSessionRepository} implements it.
 * Methods that take a session id throw `AppError('unknown_session')` when it does not exist.
 */
export abstract class SessionRepository {
  /** Throws `session_exists` when the id is taken. */
  abstract create(input: NewSession): Promise<Session>;

  abstract findById(id: string): Promise<Session | null>;

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
  abstract appendMessages(sessionId: string, messages: NewMessage[]): Promise<Message[]>;

  /**
   * Rewrites messages of the run in progress (batched partial flushes). Token counts are
   * computed only when `final` is set, once the text no longer changes.
   */
  abstract updateMessages(
    sessionId: string,
    updates: MessageUpdate[],
    final: boolean,
  ): Promise<void>;

  /** Adds a finished run's usage to the session's totals. */
  abstract addUsage(sessionId: string, usage: UsageDelta): Promise<void>;

  /** Every message after `afterId` (0: all), in order: the input of the next run's history. */
  abstract messagesAfter(sessionId: string, afterId: number): Promise<Message[]>;

  /** One page of the transcript, newest page first, in chronological order. */
  abstract listMessages(sessionId: string, query: MessagePageQuery): Promise<MessagePage>;

  /** The whole transcript in order, a page at a time (exports of long sessions). */
  abstract streamMessages(sessionId: string, pageSize?: number): AsyncIterable<Message[]>;
}
