import { Injectable } from '@nestjs/common';
import {
  SqlClient,
  SqlExecutor,
  SqlParam,
  SqlRow,
  textOf,
  nullableTextOf,
} from '../database/sql/sql-client';
import { TokenCounter } from '../tokens/token-counter';
import { makePreview, parseToolCalls } from './session.mapper';
import { transcriptStatements } from './transcript.statements';
import type {
  ContextEstimate,
  HistoryMessage,
  Message,
  MessageRole,
  MessageUpdate,
  NewMessage,
  TokenTotals,
  TranscriptTokens,
} from './session.types';

/** What the run path needs to know of a session, read once while it is in use. */
export interface SessionFacts {
  id: string;
  profile: string;
  workspace: string | null;
  /** Unix seconds; tells a re-created session from an older one with the same id. */
  createdAt: number;
  messageCount: number;
  context: ContextEstimate;
}

export interface NewSessionRow {
  id: string;
  profile: string;
  model: string | null;
  title: string | null;
  createdAt: number;
  /** Messages stored with it, in the same transaction (its first user message). */
  messageCount?: number;
  /** The text its preview is made from. */
  previewFrom?: string;
}

/** A message ready to store: its token count is already known (see {@link TranscriptStore.count}). */
export interface CountedMessage extends NewMessage {
  tokenCount: number;
}

/** A stored message's new version; `tokenCount` only once its text no longer changes. */
export interface CountedUpdate extends MessageUpdate {
  tokenCount?: number;
}

/**
 * A stored message whose text only grew (a draft still streaming): the text added since it was
 * stored, so that a long reply's periodic writes cost what streamed meanwhile, not the whole
 * reply again. Its other fields are set as they are.
 */
export interface MessageAppend extends Omit<MessageUpdate, 'content' | 'reasoning'> {
  /** Text after the stored content ('' for none). */
  contentTail: string;
  /** Reasoning after the stored reasoning ('' for none); null while it has none at all. */
  reasoningTail: string | null;
}

/** What happened to a session row along with some writes, folded into one UPDATE. */
export interface SessionChange {
  addedMessages?: number;
  /**
   * The first user text, kept as the preview if the session has none yet, and as the title of
   * a session that gets its first message untitled (one created before its first run).
   */
  previewFrom?: string;
  context?: ContextEstimate;
  usage?: TokenTotals;
  at: number;
}

/**
 * The run path's door to session and message rows (the REST side's is `SessionRepository`): a
 * run start, its partial transcript and its end read and write through here, in plain prepared
 * SQL. Writes take the transaction they belong to, so that a caller can make a user message and
 * its run record, or a reply and its usage, one atomic write.
 */
@Injectable()
export class TranscriptStore {
  private readonly statements: ReturnType<typeof transcriptStatements>;

  constructor(
    private readonly sql: SqlClient,
    private readonly tokens: TokenCounter,
  ) {
    this.statements = transcriptStatements(sql);
  }

  async facts(sessionId: string): Promise<SessionFacts | null> {
    const [row] = await this.sql.all(this.statements.facts, [sessionId]);
    if (!row) return null;
    return {
      id: textOf(row.id),
      profile: textOf(row.profile),
      workspace: nullableTextOf(row.workspace),
      createdAt: Number(row.created_at),
      messageCount: Number(row.message_count),
      context: {
        inputTokens: Number(row.context_input_tokens),
        outputTokens: Number(row.context_output_tokens),
      },
    };
  }

  /** Creates the session unless it exists; true when this call created it. */
  async createSession(tx: SqlExecutor, row: NewSessionRow): Promise<boolean> {
    const changed = await tx.run(this.statements.createSession, [
      row.id,
      row.profile,
      row.model,
      row.title,
      row.previewFrom ? makePreview(row.previewFrom) || null : null,
      row.messageCount ?? 0,
      row.createdAt,
      row.createdAt,
    ]);
    return changed > 0;
  }

  /**
   * Token counts of messages about to be stored, computed before the write (a long text is
   * counted on a worker thread, never while a transaction waits).
   */
  async count(messages: readonly NewMessage[]): Promise<CountedMessage[]> {
    return Promise.all(
      messages.map(async (message) => ({ ...message, tokenCount: await this.countOf(message) })),
    );
  }

  /** What a message costs in later histories: its text and its tool calls (never reasoning). */
  countOf(message: Pick<NewMessage, 'content' | 'toolCalls'>): Promise<number> {
    const parts = message.content ? [message.content] : [];
    if (message.toolCalls?.length) parts.push(JSON.stringify(message.toolCalls));
    return this.tokens.count(parts.join('\n'));
  }

  /** Inserts messages in transcript order; resolves to their ids. */
  async insertMessages(
    tx: SqlExecutor,
    sessionId: string,
    messages: readonly CountedMessage[],
    at: number,
  ): Promise<number[]> {
    const ids: number[] = [];
    for (const message of messages) {
      const [row] = await tx.all(this.statements.insertMessage, [
        sessionId,
        message.role,
        message.content,
        message.reasoning ?? null,
        toolCallsColumn(message.toolCalls),
        message.toolCallId ?? null,
        message.toolName ?? null,
        message.finishReason ?? null,
        message.runId ?? null,
        message.tokenCount,
        message.timestamp ?? at,
      ]);
      ids.push(Number(row.id));
    }
    return ids;
  }

  /** Rewrites messages whole (`CountedUpdate`) or appends to them (`MessageAppend`). */
  async updateMessages(
    tx: SqlExecutor,
    sessionId: string,
    updates: readonly (CountedUpdate | MessageAppend)[],
  ): Promise<void> {
    for (const update of updates) {
      const fields = [
        toolCallsColumn(update.toolCalls),
        update.toolCallId,
        update.toolName,
        update.finishReason,
      ];
      await ('contentTail' in update
        ? tx.run(this.statements.appendToMessage, [
            update.contentTail,
            update.reasoningTail,
            update.reasoningTail,
            ...fields,
            update.id,
            sessionId,
          ])
        : tx.run(this.statements.updateMessage, [
            update.content,
            update.reasoning,
            ...fields,
            update.tokenCount ?? null,
            update.id,
            sessionId,
          ]));
    }
  }

  /** Counters, `last_active`, preview, context estimate and usage totals in one UPDATE. */
  async touchSession(tx: SqlExecutor, sessionId: string, change: SessionChange): Promise<void> {
    await tx.run(this.statements.touchSession, [...changeParams(change), sessionId]);
  }

  /**
   * The same, only if the session is still the one created at `createdAt`; false when it was
   * deleted (or deleted and created again) since the caller read it.
   */
  async touchSame(
    tx: SqlExecutor,
    sessionId: string,
    createdAt: number,
    change: SessionChange,
  ): Promise<boolean> {
    const params = [...changeParams(change), sessionId, createdAt];
    return (await tx.run(this.statements.touchSame, params)) > 0;
  }

  /** The messages with `afterId < id <= throughId`, with what a run's history needs. */
  async historyBetween(
    sessionId: string,
    afterId: number,
    throughId: number,
    limit: number,
  ): Promise<HistoryMessage[]> {
    const rows = await this.sql.all(this.statements.history, [
      sessionId,
      afterId,
      throughId,
      limit,
    ]);
    return rows.map((row) => ({
      id: Number(row.id),
      role: row.role as MessageRole,
      content: textOf(row.content),
      toolCalls: parseToolCalls(nullableTextOf(row.tool_calls)),
      toolCallId: nullableTextOf(row.tool_call_id),
      toolName: nullableTextOf(row.tool_name),
      tokenCount: Number(row.token_count),
    }));
  }

  /** Sums of the stored token counts after `afterId`: no text is read or tokenised. */
  async tokensAfter(sessionId: string, afterId: number): Promise<TranscriptTokens> {
    const rows = await this.sql.all(this.statements.tokensAfter, [sessionId, afterId]);
    const totals: TranscriptTokens = { userTokens: 0, otherTokens: 0, messages: 0 };
    for (const row of rows) {
      if (row.role === 'user') totals.userTokens += Number(row.tokens);
      else totals.otherTokens += Number(row.tokens);
      totals.messages += Number(row.messages);
    }
    return totals;
  }

  /** Every stored message of one run, in order (a run recovered after a restart). */
  async messagesOfRun(sessionId: string, runId: string): Promise<Message[]> {
    const rows = await this.sql.all(this.statements.ofRun, [sessionId, runId]);
    return rows.map(messageOf);
  }
}

function changeParams(change: SessionChange): SqlParam[] {
  const usage = change.usage;
  const preview = change.previewFrom ? makePreview(change.previewFrom) || null : null;
  return [
    change.addedMessages ?? 0,
    change.at,
    preview,
    preview,
    change.context?.inputTokens ?? null,
    change.context?.outputTokens ?? null,
    usage?.inputTokens ?? 0,
    usage?.outputTokens ?? 0,
    usage?.cacheReadTokens ?? 0,
    usage?.cacheWriteTokens ?? 0,
    usage?.reasoningTokens ?? 0,
  ];
}

function toolCallsColumn(calls: NewMessage['toolCalls']): string | null {
  return calls?.length ? JSON.stringify(calls) : null;
}

function messageOf(row: SqlRow): Message {
  return {
    id: Number(row.id),
    sessionId: textOf(row.session_id),
    role: row.role as MessageRole,
    content: textOf(row.content),
    reasoning: nullableTextOf(row.reasoning),
    toolCalls: parseToolCalls(nullableTextOf(row.tool_calls)),
    toolCallId: nullableTextOf(row.tool_call_id),
    toolName: nullableTextOf(row.tool_name),
    finishReason: nullableTextOf(row.finish_reason),
    runId: nullableTextOf(row.run_id),
    tokenCount: Number(row.token_count),
    timestamp: Number(row.timestamp),
  };
}
