import type {
  Message,
  MessagePage,
  MessagePageQuery,
  NewSession,
  Page,
  SearchHit,
  Session,
  SessionListQuery,
  SessionPatch,
} from './session.types';

/**
 * The REST side's door to sessions and messages (the run path's is `TranscriptStore`). It is an abstract
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

  /** One page of the transcript, newest page first, in chronological order. */
  abstract listMessages(sessionId: string, query: MessagePageQuery): Promise<MessagePage>;

  /** The whole transcript in order, a page at a time (exports of long sessions). */
  abstract streamMessages(sessionId: string, pageSize?: number): AsyncIterable<Message[]>;
}
