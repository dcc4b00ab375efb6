import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Brackets, DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { TokenCounter } from '../compression/token-counter';
import { AppError } from '../common/errors/app-error';
import { serialTransaction, serialWrite } from '../database/serial-transactions';
import { decodeCursor, encodeCursor } from './cursor';
import { MessageEntity } from './message.entity';
import { readMessagePage } from './message-page';
import { makePreview, parseToolCalls, toMessage, toSession } from './session.mapper';
import { searchSessions } from './session-search';
import { type AppendOptions, SessionRepository } from './session.repository';
import { SessionEntity } from './session.entity';
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
  ContextEstimate,
  HistoryMessage,
  TranscriptTokens,
} from './session.types';

const nowSeconds = (): number => Date.now() / 1000;

@Injectable()
export class TypeOrmSessionRepository extends SessionRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tokens: TokenCounter,
  ) {
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

  async appendMessages(
    sessionId: string,
    input: NewMessage[],
    { countTokens = true }: AppendOptions = {},
  ): Promise<Message[]> {
    if (input.length === 0) return [];
    // Counted before the transaction: tokenising long texts must not hold a write lock.
    const tokenCounts = countTokens
      ? await Promise.all(input.map((message) => this.countMessage(message)))
      : input.map(() => 0);
    // Checked before BEGIN as well, so that the usual failure never needs a rollback.
    await this.requireSession(sessionId);
    const now = nowSeconds();
    return serialTransaction(this.dataSource, async (manager) => {
      const session = await manager.findOneBy(SessionEntity, { id: sessionId });
      if (!session) throw AppError.unknownSession(sessionId);
      const entities = input.map((message, index) =>
        manager.create(MessageEntity, {
          sessionId,
          role: message.role,
          content: message.content,
          reasoning: message.reasoning ?? null,
          toolCalls: message.toolCalls?.length ? JSON.stringify(message.toolCalls) : null,
          toolCallId: message.toolCallId ?? null,
          toolName: message.toolName ?? null,
          finishReason: message.finishReason ?? null,
          runId: message.runId ?? null,
          tokenCount: tokenCounts[index],
          timestamp: message.timestamp ?? now,
        }),
      );
      // One INSERT per row keeps ids in transcript order on every driver.
      for (const entity of entities) await manager.insert(MessageEntity, entity);
      await this.touchSession(manager, session, input, now);
      return entities.map(toMessage);
    });
  }

  async updateMessages(sessionId: string, updates: MessageUpdate[], final: boolean): Promise<void> {
    if (updates.length === 0) return;
    const counts = final
      ? await Promise.all(updates.map((update) => this.countMessage(update)))
      : undefined;
    await serialTransaction(this.dataSource, async (manager) => {
      for (const [index, update] of updates.entries()) {
        await manager.update(
          MessageEntity,
          { id: update.id, sessionId },
          {
            content: update.content,
            reasoning: update.reasoning,
            toolCalls: update.toolCalls?.length ? JSON.stringify(update.toolCalls) : null,
            toolCallId: update.toolCallId,
            toolName: update.toolName,
            finishReason: update.finishReason,
            ...(counts ? { tokenCount: counts[index] } : {}),
          },
        );
      }
      await manager.update(SessionEntity, { id: sessionId }, { lastActive: nowSeconds() });
    });
  }

  async messagesAfter(sessionId: string, afterId: number): Promise<Message[]> {
    const rows = await this.messages
      .createQueryBuilder('m')
      .where('m.session_id = :sessionId AND m.id > :afterId', { sessionId, afterId })
      .orderBy('m.id', 'ASC')
      .getMany();
    return rows.map(toMessage);
  }

  async historyBetween(
    sessionId: string,
    afterId: number,
    throughId: number,
  ): Promise<HistoryMessage[]> {
    const rows = await this.messages
      .createQueryBuilder('m')
      .select(['m.id', 'm.role', 'm.content', 'm.toolCalls', 'm.toolCallId', 'm.toolName'])
      .addSelect('m.tokenCount')
      .where('m.session_id = :sessionId AND m.id > :afterId AND m.id <= :throughId', {
        sessionId,
        afterId,
        throughId,
      })
      .orderBy('m.id', 'ASC')
      .getMany();
    return rows.map((row) => ({
      id: row.id,
      role: row.role,
      content: row.content,
      toolCalls: parseToolCalls(row.toolCalls),
      toolCallId: row.toolCallId,
      toolName: row.toolName,
      tokenCount: row.tokenCount,
    }));
  }

  async tokensAfter(sessionId: string, afterId: number): Promise<TranscriptTokens> {
    const rows = await this.messages
      .createQueryBuilder('m')
      .select('m.role', 'role')
      .addSelect('COALESCE(SUM(m.token_count), 0)', 'tokens')
      .addSelect('COUNT(*)', 'messages')
      .where('m.session_id = :sessionId AND m.id > :afterId', { sessionId, afterId })
      .groupBy('m.role')
      .getRawMany<{ role: string; tokens: string | number; messages: string | number }>();
    const totals: TranscriptTokens = { userTokens: 0, otherTokens: 0, messages: 0 };
    for (const row of rows) {
      if (row.role === 'user') totals.userTokens += Number(row.tokens);
      else totals.otherTokens += Number(row.tokens);
      totals.messages += Number(row.messages);
    }
    return totals;
  }

  async setContextEstimate(sessionId: string, estimate: ContextEstimate): Promise<void> {
    await serialWrite(this.dataSource, () =>
      this.sessions.update(
        { id: sessionId },
        {
          contextInputTokens: estimate.inputTokens,
          contextOutputTokens: estimate.outputTokens,
        },
      ),
    );
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

  private async touchSession(
    manager: EntityManager,
    session: SessionEntity,
    added: NewMessage[],
    now: number,
  ): Promise<void> {
    const firstUserText = added.find((message) => message.role === 'user')?.content;
    await manager
      .createQueryBuilder()
      .update(SessionEntity)
      .set({
        messageCount: () => `message_count + ${added.length}`,
        lastActive: now,
        ...(session.preview === null && firstUserText
          ? { preview: makePreview(firstUserText) }
          : {}),
      })
      .where('id = :id', { id: session.id })
      .execute();
  }

  private countMessage(message: Pick<NewMessage, 'content' | 'toolCalls'>): Promise<number> {
    // What the model is sent again in later histories: the text and the tool calls (as the JSON
    // they are, never "null" or "[object Object]"); reasoning is never sent back.
    const parts = message.content ? [message.content] : [];
    if (message.toolCalls?.length) parts.push(JSON.stringify(message.toolCalls));
    return this.tokens.count(parts.join('\n'));
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
