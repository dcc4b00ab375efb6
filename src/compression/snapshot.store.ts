import { Injectable } from '@nestjs/common';
import { GroupCommit } from '../database/sql/group-commit';
import { SqlClient, textOf } from '../database/sql/sql-client';

export interface Snapshot {
  sessionId: string;
  /** The newest message the summary covers. */
  lastMessageId: number;
  summary: string;
  summaryTokens: number;
  coveredMessages: number;
}

function snapshotStatements(sql: SqlClient) {
  const snapshots = sql.table('compression_snapshots');
  return {
    find: sql.statement(
      `SELECT session_id, last_message_id, summary, summary_tokens, covered_messages ` +
        `FROM ${snapshots} WHERE session_id = ?`,
    ),
    // `created_at` keeps the time of the session's first compression.
    save: sql.statement(
      `INSERT INTO ${snapshots} (session_id, last_message_id, summary, summary_tokens, ` +
        `covered_messages, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ` +
        `ON CONFLICT (session_id) DO UPDATE SET last_message_id = excluded.last_message_id, ` +
        `summary = excluded.summary, summary_tokens = excluded.summary_tokens, ` +
        `covered_messages = excluded.covered_messages, updated_at = excluded.updated_at`,
    ),
  };
}

/** One snapshot per session, replaced as the summary grows; deleted with its session. */
@Injectable()
export class SnapshotStore {
  private readonly statements: ReturnType<typeof snapshotStatements>;

  constructor(
    private readonly sql: SqlClient,
    private readonly commit: GroupCommit,
  ) {
    this.statements = snapshotStatements(sql);
  }

  async find(sessionId: string): Promise<Snapshot | null> {
    const [row] = await this.sql.all(this.statements.find, [sessionId]);
    if (!row) return null;
    return {
      sessionId: textOf(row.session_id),
      lastMessageId: Number(row.last_message_id),
      summary: textOf(row.summary),
      summaryTokens: Number(row.summary_tokens),
      coveredMessages: Number(row.covered_messages),
    };
  }

  async save(snapshot: Snapshot): Promise<Snapshot> {
    const now = Date.now() / 1000;
    await this.commit.write((tx) =>
      tx.run(this.statements.save, [
        snapshot.sessionId,
        snapshot.lastMessageId,
        snapshot.summary,
        snapshot.summaryTokens,
        snapshot.coveredMessages,
        now,
        now,
      ]),
    );
    return snapshot;
  }
}
