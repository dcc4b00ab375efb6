import { Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { HermesProfiles } from '../hermes-profiles';

export interface HermesStoredMessage {
  id: number;
  role: string;
  content: string;
  toolCallId?: string;
  /** The assistant's tool calls as stored (OpenAI shape: `{ id, type, function: { name, arguments } }`). */
  toolCalls?: Record<string, unknown>[];
  toolName?: string;
  /** Unix seconds. */
  timestamp: number;
  tokenCount?: number;
  finishReason?: string;
  reasoning?: string;
  reasoningContent?: string;
  /** Raw JSON text, as stored. */
  reasoningDetails?: string;
}

export interface HermesStoredUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

export interface HermesStoredSession {
  id: string;
  model?: string;
  startedAt?: number;
  endedAt?: number;
  endReason?: string;
  usage: HermesStoredUsage;
  /** Oldest first; rows the upstream marked inactive (`active = 0`, compacted away) are left out. */
  messages: HermesStoredMessage[];
}

type Row = Record<string, unknown>;

/**
 * Read-only access to a profile's `<home>/state.db` (tables `sessions` and `messages`), to recover
 * what a finished run's event stream did not carry: tool results and exact token usage.
 * Inert for profiles without `home`.
 */
@Injectable()
export class HermesStateReader {
  private readonly logger = new Logger(HermesStateReader.name);

  constructor(private readonly profiles: HermesProfiles) {}

  /** Whether the profile has a home directory configured. */
  enabled(profileName: string): boolean {
    return this.profiles.get(profileName).home !== undefined;
  }

  /**
   * The stored session, or `null` when the profile has no home or the session is not in its
   * store. Rejects when `state.db` cannot be opened or read.
   */
  async readSession(profileName: string, sessionId: string): Promise<HermesStoredSession | null> {
    const home = this.profiles.get(profileName).home;
    if (home === undefined) return null;
    const db = await openReadOnly(join(home, 'state.db'));
    try {
      const session = await get(db, 'SELECT * FROM sessions WHERE id = ?', sessionId);
      if (!session) return null;
      const rows = await all(
        db,
        'SELECT * FROM messages WHERE session_id = ? ORDER BY timestamp, id',
        sessionId,
      );
      const messages = rows.filter((row) => row['active'] !== 0).map(toMessage);
      this.logger.debug(`Read ${messages.length} messages of upstream session ${sessionId}`);
      return toSession(session, messages);
    } finally {
      await close(db);
    }
  }
}

function toSession(row: Row, messages: HermesStoredMessage[]): HermesStoredSession {
  return {
    id: String(row['id']),
    model: str(row['model']),
    startedAt: num(row['started_at']),
    endedAt: num(row['ended_at']),
    endReason: str(row['end_reason']),
    usage: {
      inputTokens: num(row['input_tokens']) ?? 0,
      outputTokens: num(row['output_tokens']) ?? 0,
      cacheReadTokens: num(row['cache_read_tokens']) ?? 0,
      cacheWriteTokens: num(row['cache_write_tokens']) ?? 0,
      reasoningTokens: num(row['reasoning_tokens']) ?? 0,
    },
    messages,
  };
}

function toMessage(row: Row): HermesStoredMessage {
  return {
    id: num(row['id']) ?? 0,
    role: str(row['role']) ?? 'unknown',
    content: str(row['content']) ?? '',
    toolCallId: str(row['tool_call_id']),
    toolCalls: toolCalls(row['tool_calls']),
    toolName: str(row['tool_name']),
    timestamp: num(row['timestamp']) ?? 0,
    tokenCount: num(row['token_count']),
    finishReason: str(row['finish_reason']),
    reasoning: str(row['reasoning']),
    reasoningContent: str(row['reasoning_content']),
    reasoningDetails: str(row['reasoning_details']),
  };
}

function toolCalls(value: unknown): Record<string, unknown>[] | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    if (!Array.isArray(parsed)) return undefined;
    return parsed.filter(
      (call: unknown): call is Record<string, unknown> => typeof call === 'object' && call !== null,
    );
  } catch {
    return undefined;
  }
}

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

function openReadOnly(path: string): Promise<sqlite3.Database> {
  return new Promise<sqlite3.Database>((resolve, reject) => {
    const db = new sqlite3.Database(path, sqlite3.OPEN_READONLY, (error) =>
      error ? reject(new Error(`Cannot open ${path} read-only: ${error.message}`)) : resolve(db),
    );
  }).then((db) => {
    db.configure('busyTimeout', 2000);
    return db;
  });
}

function get(db: sqlite3.Database, sql: string, param: string): Promise<Row | undefined> {
  return new Promise((resolve, reject) =>
    db.get<Row>(sql, [param], (error, row) => (error ? reject(error) : resolve(row))),
  );
}

function all(db: sqlite3.Database, sql: string, param: string): Promise<Row[]> {
  return new Promise((resolve, reject) =>
    db.all<Row>(sql, [param], (error, rows) => (error ? reject(error) : resolve(rows))),
  );
}

function close(db: sqlite3.Database): Promise<void> {
  return new Promise((resolve) =>
    db.close((error) => {
      // The rows are read; a failing close must not turn the read into a failure.
      if (error) new Logger(HermesStateReader.name).warn(`Closing state.db: ${error.message}`);
      resolve();
    }),
  );
}
