import { Injectable } from '@nestjs/common';
import {
  SqlClient,
  SqlExecutor,
  SqlRow,
  textOf,
  nullableTextOf,
} from '../../database/sql/sql-client';

/**
 * A run's lifecycle. `queued` rows are the session's durable FIFO queue (ordered by `created_at`,
 * then `id`); `starting`/`running`/`aborting` rows are active (at most one per session); the rest
 * are finished and double as the idempotency record for `queue_id`.
 */
export type RunStatus =
  | 'queued'
  | 'starting'
  | 'running'
  | 'aborting'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'interrupted';

export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['starting', 'running', 'aborting'];

/** A fresh upstream session per run (the gateway sends the whole history itself). */
export const upstreamSessionOf = (run: Pick<RunRecord, 'id'>): string => `eph_${run.id}`;

/** A `queue_id` is remembered this long after its run ended (idempotent `run`). */
export const DUPLICATE_WINDOW_S = 24 * 60 * 60;

/** A run's stored record (the `runs` table). */
export interface RunRecord {
  /** Local id; also the upstream Idempotency-Key, so a retried create never starts twice. */
  id: string;
  sessionId: string;
  queueId: string;
  status: RunStatus;
  profile: string;
  /** The user's input as stored in the transcript (text, or the JSON of content blocks). */
  input: string;
  model: string | null;
  instructions: string | null;
  upstreamRunId: string | null;
  userMessageId: number | null;
  /** Unix seconds. */
  createdAt: number;
  startedAt: number | null;
}

export type NewRun = Pick<
  RunRecord,
  'id' | 'sessionId' | 'queueId' | 'profile' | 'input' | 'model' | 'instructions'
>;

export interface RunEnd {
  status: Extract<RunStatus, 'completed' | 'failed' | 'cancelled' | 'interrupted'>;
  error?: string | null;
  errorCode?: string | null;
}

const COLUMNS =
  'id, session_id, queue_id, status, profile, input, model, instructions, upstream_run_id, ' +
  'user_message_id, created_at, started_at';

const TERMINAL = `('completed', 'failed', 'cancelled', 'interrupted')`;
const ACTIVE = `(${ACTIVE_RUN_STATUSES.map((status) => `'${status}'`).join(', ')})`;

function runStatements(sql: SqlClient) {
  const runs = sql.table('runs');
  return {
    insert: sql.statement(
      `INSERT INTO ${runs} (id, session_id, queue_id, status, profile, input, model, ` +
        `instructions, user_message_id, created_at, started_at) ` +
        `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    duplicate: sql.statement(
      `SELECT 1 AS found FROM ${runs} WHERE session_id = ? AND queue_id = ? ` +
        `AND (ended_at IS NULL OR ended_at > ?) LIMIT 1`,
    ),
    start: sql.statement(
      `UPDATE ${runs} SET status = 'starting', started_at = ? WHERE id = ? AND status = 'queued'`,
    ),
    attachUserMessage: sql.statement(
      `UPDATE ${runs} SET user_message_id = ? WHERE id = ? AND user_message_id IS NULL`,
    ),
    running: sql.statement(
      `UPDATE ${runs} SET status = ?, upstream_run_id = ? WHERE id = ? AND status NOT IN ${TERMINAL}`,
    ),
    aborting: sql.statement(
      `UPDATE ${runs} SET status = 'aborting' WHERE id = ? AND status NOT IN ${TERMINAL}`,
    ),
    end: sql.statement(
      `UPDATE ${runs} SET status = ?, error = ?, error_code = ?, ended_at = ? ` +
        `WHERE id = ? AND status NOT IN ${TERMINAL}`,
    ),
    cancelQueued: sql.statement(
      `UPDATE ${runs} SET status = 'cancelled', ended_at = ?, error_code = 'cancelled_before_start' ` +
        `WHERE session_id = ? AND queue_id = ? AND status = 'queued'`,
    ),
    queued: sql.statement(
      `SELECT ${COLUMNS} FROM ${runs} WHERE session_id = ? AND status = 'queued' ` +
        `ORDER BY created_at, id`,
    ),
    active: sql.statement(`SELECT ${COLUMNS} FROM ${runs} WHERE status IN ${ACTIVE}`),
    activeOf: sql.statement(
      `SELECT ${COLUMNS} FROM ${runs} WHERE session_id = ? AND status IN ${ACTIVE}`,
    ),
    sessionsWithQueues: sql.statement(
      `SELECT DISTINCT session_id FROM ${runs} WHERE status = 'queued'`,
    ),
  };
}

/**
 * Run records: the durable FIFO of each session, the active run and finished runs (which double
 * as the idempotency record of `queue_id`). Plain SQL; the writes take the transaction they belong
 * to, so that a run's record changes together with its transcript.
 */
@Injectable()
export class RunStore {
  private readonly statements: ReturnType<typeof runStatements>;

  constructor(private readonly sql: SqlClient) {
    this.statements = runStatements(sql);
  }

  /** Inserts a run as `queued`, or as `starting` with its (already stored) user message. */
  async insert(
    tx: SqlExecutor,
    run: NewRun,
    start: { userMessageId: number } | null,
    now: number,
  ): Promise<void> {
    await tx.run(this.statements.insert, [
      run.id,
      run.sessionId,
      run.queueId,
      start ? 'starting' : 'queued',
      run.profile,
      run.input,
      run.model,
      run.instructions,
      start?.userMessageId ?? null,
      now,
      start ? now : null,
    ]);
  }

  /** Whether the session accepted this `queue_id` recently (queued, active, or ended < 24 h ago). */
  async isDuplicate(
    tx: SqlExecutor,
    sessionId: string,
    queueId: string,
    now: number,
  ): Promise<boolean> {
    const rows = await tx.all(this.statements.duplicate, [
      sessionId,
      queueId,
      now - DUPLICATE_WINDOW_S,
    ]);
    return rows.length > 0;
  }

  /** A queued run starts; false when it is no longer queued. */
  async start(tx: SqlExecutor, runId: string, now: number): Promise<boolean> {
    return (await tx.run(this.statements.start, [now, runId])) > 0;
  }

  /** Links a run to its user message (stored when it starts). */
  async attachUserMessage(tx: SqlExecutor, runId: string, userMessageId: number): Promise<void> {
    await tx.run(this.statements.attachUserMessage, [userMessageId, runId]);
  }

  async running(
    tx: SqlExecutor,
    runId: string,
    upstreamRunId: string,
    aborting: boolean,
  ): Promise<void> {
    await tx.run(this.statements.running, [
      aborting ? 'aborting' : 'running',
      upstreamRunId,
      runId,
    ]);
  }

  async aborting(tx: SqlExecutor, runId: string): Promise<void> {
    await tx.run(this.statements.aborting, [runId]);
  }

  async end(tx: SqlExecutor, runId: string, end: RunEnd, now: number): Promise<void> {
    await tx.run(this.statements.end, [
      end.status,
      end.error ?? null,
      end.errorCode ?? null,
      now,
      runId,
    ]);
  }

  /** Removes a queued run; false when it was not queued (unknown, or already started). */
  async cancelQueued(
    tx: SqlExecutor,
    sessionId: string,
    queueId: string,
    now: number,
  ): Promise<boolean> {
    return (await tx.run(this.statements.cancelQueued, [now, sessionId, queueId])) > 0;
  }

  async queued(sessionId: string): Promise<RunRecord[]> {
    return (await this.sql.all(this.statements.queued, [sessionId])).map(runOf);
  }

  /** Runs that were active when the previous process stopped. */
  async active(): Promise<RunRecord[]> {
    return (await this.sql.all(this.statements.active)).map(runOf);
  }

  /** The session's active run (at most one), as a previous holder left it. */
  async activeOf(sessionId: string): Promise<RunRecord[]> {
    return (await this.sql.all(this.statements.activeOf, [sessionId])).map(runOf);
  }

  /** Sessions with queued runs (those without an active run have a queue left behind). */
  async sessionsWithQueues(): Promise<string[]> {
    const rows = await this.sql.all(this.statements.sessionsWithQueues);
    return rows.map((row) => textOf(row.session_id));
  }
}

function runOf(row: SqlRow): RunRecord {
  return {
    id: textOf(row.id),
    sessionId: textOf(row.session_id),
    queueId: textOf(row.queue_id),
    status: row.status as RunStatus,
    profile: textOf(row.profile),
    input: textOf(row.input),
    model: nullableTextOf(row.model),
    instructions: nullableTextOf(row.instructions),
    upstreamRunId: nullableTextOf(row.upstream_run_id),
    userMessageId: row.user_message_id === null ? null : Number(row.user_message_id),
    createdAt: Number(row.created_at),
    startedAt: row.started_at === null ? null : Number(row.started_at),
  };
}
