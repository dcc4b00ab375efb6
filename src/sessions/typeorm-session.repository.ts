import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Brackets, DataSource, QueryFailedError } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { serialWrite } from '../database/serial-transactions';
import { decodeCursor, encodeCursor } from './cursor';
import { MessageEntity } from './message.entity';
import { readMessagePage } from './message-page';
import { toMessage, toSession } from './session.mapper';
import { searchSessions } from './session-search';
import { SessionRepository } from './session.repository';
import { SessionEntity } from './session.entity';
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

const nowSeconds = (): number => Date.now() / 1000;

@Injectable()
export class TypeOrmSessionRepository extends SessionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    super();
  }

  private get sessions() {
    return this.dataSource.getRepository(SessionEntity);
  }

  private get messages() {
    return this.dataSource.getRepository(MessageEntity);
  }

  async create(input: NewSession): Promise<Session> {
    const now = nowSeconds();
    const entity = this.sessions.create({
      id: input.id ?? randomUUID(),
      profile: input.profile ?? 'default',
      model: input.model ?? null,
      title: input.title ?? null,
      preview: null,
      workspace: input.workspace ?? null,
      createdAt: now,
      lastActive: now,
      messageCount: 0,
      inputTokens: 0,
      outputTokens: 0,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      contextInputTokens: 0,
      contextOutputTokens: 0,
    });
    // Mapped before the insert: TypeORM writes driver-raw defaults (BIGINT as string) back into it.
    const session = toSession(entity);
    try {
      // insert, not save: save would silently overwrite an existing row with the same id.
      await serialWrite(this.dataSource, () => this.sessions.insert(entity));
    } catch (error) {
      if (isUniqueViolation(error)) throw AppError.sessionExists(entity.id);
      throw error;
    }
    return session;
  }

  async findById(id: string): Promise<Session | null> {
    const entity = await this.sessions.findOneBy({ id });
    return entity ? toSession(entity) : null;
  }

  async findManyByIds(ids: readonly string[]): Promise<Session[]> {
    if (ids.length === 0) return [];
    const entities = await this.sessions
      .createQueryBuilder('s')
      .where('s.id IN (:...ids)', { ids: [...new Set(ids)] })
      .getMany();
    return entities.map(toSession);
  }

  async list({ limit, cursor, profile }: SessionListQuery): Promise<Page<Session>> {
    const query = this.sessions
      .createQueryBuilder('s')
      .orderBy('s.last_active', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .limit(limit + 1);
    if (profile) query.andWhere('s.profile = :profile', { profile });
    if (cursor) {
      const [lastActive, id] = decodeCursor(cursor);
      query.andWhere(
        new Brackets((where) =>
          where
            .where('s.last_active < :lastActive', { lastActive })
            .orWhere('(s.last_active = :lastActive AND s.id < :id)', { id }),
        ),
      );
    }
    const rows = await query.getMany();
    const items = rows.slice(0, limit).map(toSession);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor([last.lastActive, last.id]) : null,
    };
  }

  search(text: string, limit: number): Promise<SearchHit[]> {
    return searchSessions(this.dataSource, text, limit);
  }

  async update(id: string, patch: SessionPatch): Promise<Session> {
    const changes: Partial<SessionEntity> = {};
    if (patch.title !== undefined) changes.title = patch.title;
    if (patch.workspace !== undefined) changes.workspace = patch.workspace;
    if (Object.keys(changes).length > 0) {
      const result = await serialWrite(this.dataSource, () =>
        this.sessions.update({ id }, changes),
      );
      if (!result.affected) throw AppError.unknownSession(id);
    }
    const session = await this.findById(id);
    if (!session) throw AppError.unknownSession(id);
    return session;
  }

  async delete(id: string): Promise<void> {
    const result = await serialWrite(this.dataSource, () => this.sessions.delete({ id }));
    if (!result.affected) throw AppError.unknownSession(id);
  }

  async listMessages(sessionId: string, query: MessagePageQuery): Promise<MessagePage> {
    await this.requireSession(sessionId);
    return readMessagePage(this.messages, sessionId, query);
  }

  async *streamMessages(sessionId: string, pageSize = 500): AsyncIterable<Message[]> {
    await this.requireSession(sessionId);
    let after = 0;
    for (;;) {
      const rows = await this.messages
        .createQueryBuilder('m')
        .where('m.session_id = :sessionId AND m.id > :after', { sessionId, after })
        .orderBy('m.id', 'ASC')
        .limit(pageSize)
        .getMany();
      if (rows.length === 0) return;
      yield rows.map(toMessage);
      after = rows[rows.length - 1].id;
      if (rows.length < pageSize) return;
    }
  }

  private async requireSession(id: string): Promise<void> {
    const exists = await this.sessions.existsBy({ id });
    if (!exists) throw AppError.unknownSession(id);
  }
}

function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = error.driverError as { code?: string; errno?: number } | undefined;
  return (
    driverError?.code === '23505' || // PostgreSQL unique_violation
    driverError?.code === 'SQLITE_CONSTRAINT' ||
    /UNIQUE constraint failed/i.test(error.message)
  );
}
