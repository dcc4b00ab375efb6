import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { SessionRepository } from './session.repository';
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
 * Session use cases behind the REST API. Later features (runs, usage, compression) hook their
 * own cleanup into {@link remove} through the database cascade, so this stays thin.
 */
@Injectable()
export class SessionsService {
  constructor(private readonly repository: SessionRepository) {}

  create(input: NewSession): Promise<Session> {
    return this.repository.create(input);
  }

  list(query: SessionListQuery): Promise<Page<Session>> {
    return this.repository.list(query);
  }

  search(text: string, limit: number): Promise<SearchHit[]> {
    return this.repository.search(text, limit);
  }

  async get(id: string): Promise<Session> {
    const session = await this.repository.findById(id);
    if (!session) throw AppError.unknownSession(id);
    return session;
  }

  /** The sessions among `ids` that exist. */
  findMany(ids: readonly string[]): Promise<Session[]> {
    return this.repository.findManyByIds(ids);
  }

  messages(id: string, query: MessagePageQuery): Promise<MessagePage> {
    return this.repository.listMessages(id, query);
  }

  streamMessages(id: string): AsyncIterable<Message[]> {
    return this.repository.streamMessages(id);
  }

  update(id: string, patch: SessionPatch): Promise<Session> {
    return this.repository.update(id, patch);
  }

  remove(id: string): Promise<void> {
    return this.repository.delete(id);
  }
}
