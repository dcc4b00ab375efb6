import type { SessionLeases } from '../../cluster/session-leases';
import { GroupCommit } from '../../database/sql/group-commit';
import {
  SqlClient,
  SqlExecutor,
  SqlParam,
  SqlStatement,
  textOf,
} from '../../database/sql/sql-client';
import { LoggedEvent, parseBatch } from './logged-event';

/** Where a session's seq numbering stands (the `session_event_heads` row). */
export interface HeadRow {
  sessionId: string;
  seqReserved: number;
  lastStoredSeq: number;
  replayFloor: number;
}

/** Consecutive events of one session written in one flush (a `session_event_batches` row). */
export interface BatchRow {
  sessionId: string;
  firstSeq: number;
  lastSeq: number;
  /** A JSON array of wire payloads. */
  events: string;
}

export interface StoredHead extends HeadRow {
  /** Highest `last_seq` among the session's batches (0 if none). */
  maxBatchSeq: number;
}

function eventLogStatements(sql: SqlClient) {
  const heads = sql.table('session_event_heads');
  const batches = sql.table('session_event_batches');
  return {
    heads,
    batches,
    head: sql.statement(
      `SELECT seq_reserved, last_stored_seq, replay_floor FROM ${heads} WHERE session_id = ?`,
    ),
    maxBatch: sql.statement(`SELECT MAX(last_seq) AS max_seq FROM ${batches} WHERE session_id = ?`),
    after: sql.statement(
      `SELECT events FROM ${batches} WHERE session_id = ? AND last_seq > ? ORDER BY first_seq`,
    ),
    deleteThrough: sql.statement(`DELETE FROM ${batches} WHERE session_id = ? AND last_seq <= ?`),
  };
}

/** Rows per multi-row statement: a flush of 200 sessions is a handful of statements. */
const ROWS_PER_STATEMENT = 32;

/**
 * The event log's SQL. Writes are upserts (safe to repeat) and go through the group commit, so
 * a flush of every streaming session shares its transaction with the run writes of the same
 * moment. Batches are written before heads: a crash in between only makes the next open more
 * cautious.
 */
export class EventLogStore {
  private readonly statements: ReturnType<typeof eventLogStatements>;
  private readonly upserts = new Map<string, SqlStatement>();

  constructor(
    private readonly sql: SqlClient,
    private readonly commit: GroupCommit,
    private readonly leases: SessionLeases,
  ) {
    this.statements = eventLogStatements(sql);
  }

  async readHead(sessionId: string): Promise<StoredHead | null> {
    const [[head], [max]] = await Promise.all([
      this.sql.all(this.statements.head, [sessionId]),
      this.sql.all(this.statements.maxBatch, [sessionId]),
    ]);
    // PostgreSQL answers BIGINT and aggregates as strings.
    const maxBatchSeq = Number(max?.max_seq ?? 0);
    if (!head) return maxBatchSeq > 0 ? emptyHead(sessionId, maxBatchSeq) : null;
    return {
      sessionId,
      seqReserved: Number(head.seq_reserved),
      lastStoredSeq: Number(head.last_stored_seq),
      replayFloor: Number(head.replay_floor),
      maxBatchSeq,
    };
  }

  /** Batches, then heads, in one committed write. */
  write(batches: readonly BatchRow[], heads: readonly HeadRow[]): Promise<void> {
    return this.commit.write((tx) => this.writeIn(tx, batches, heads));
  }

  /** The same, inside a caller's transaction (a session created together with its log). */
  async writeIn(
    tx: SqlExecutor,
    batches: readonly BatchRow[],
    heads: readonly HeadRow[],
  ): Promise<void> {
    // Only the instance holding a session numbers and stores its events.
    for (const head of heads) await this.leases.guard(tx, head.sessionId);
    await this.upsert(tx, 'batch', batches, (b) => [b.sessionId, b.firstSeq, b.lastSeq, b.events]);
    await this.upsert(tx, 'head', heads, (h) => [
      h.sessionId,
      h.seqReserved,
      h.lastStoredSeq,
      h.replayFloor,
    ]);
  }

  /** Stored events of every batch that reaches past `afterSeq`, in seq order. */
  async loadAfter(sessionId: string, afterSeq: number): Promise<LoggedEvent[]> {
    const rows = await this.sql.all(this.statements.after, [sessionId, afterSeq]);
    return rows.flatMap((row) => parseBatch(textOf(row.events)));
  }

  /** Deletes the batches that hold nothing above `seq`. */
  async deleteThrough(sessionId: string, seq: number): Promise<void> {
    await this.commit.write((tx) => tx.run(this.statements.deleteThrough, [sessionId, seq]));
  }

  private async upsert<T>(
    tx: SqlExecutor,
    kind: 'batch' | 'head',
    rows: readonly T[],
    values: (row: T) => SqlParam[],
  ): Promise<void> {
    for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
      await tx.run(this.upsertStatement(kind, chunk.length), chunk.flatMap(values));
    }
  }

  /** The upsert of exactly `count` rows, prepared once per size. */
  private upsertStatement(kind: 'batch' | 'head', count: number): SqlStatement {
    const key = `${kind}:${count}`;
    let statement = this.upserts.get(key);
    if (!statement) {
      const tuples = Array.from({ length: count }, () => '(?, ?, ?, ?)').join(', ');
      statement = this.sql.statement(
        kind === 'batch'
          ? `INSERT INTO ${this.statements.batches} (session_id, first_seq, last_seq, events) ` +
              `VALUES ${tuples} ON CONFLICT (session_id, first_seq) ` +
              `DO UPDATE SET last_seq = excluded.last_seq, events = excluded.events`
          : `INSERT INTO ${this.statements.heads} ` +
              `(session_id, seq_reserved, last_stored_seq, replay_floor) VALUES ${tuples} ` +
              `ON CONFLICT (session_id) DO UPDATE SET seq_reserved = excluded.seq_reserved, ` +
              `last_stored_seq = excluded.last_stored_seq, replay_floor = excluded.replay_floor`,
      );
      this.upserts.set(key, statement);
    }
    return statement;
  }
}

function emptyHead(sessionId: string, maxBatchSeq: number): StoredHead {
  return { sessionId, seqReserved: 0, lastStoredSeq: 0, replayFloor: 0, maxBatchSeq };
}
