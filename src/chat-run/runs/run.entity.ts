import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { SessionEntity } from '../../sessions/session.entity';

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

@Entity('runs')
@Index('idx_runs_session_status', ['sessionId', 'status'])
@Index('idx_runs_session_queue_id', ['sessionId', 'queueId'])
export class RunEntity {
  /** Local id; also the upstream Idempotency-Key, so a retried create never starts twice. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'session_id', type: 'varchar', length: 128 })
  sessionId!: string;

  @ManyToOne(() => SessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'fk_runs_session' })
  session?: SessionEntity;

  /** The client's request id (or one the server made). */
  @Column({ name: 'queue_id', type: 'varchar', length: 128 })
  queueId!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: RunStatus;

  @Column({ type: 'varchar', length: 64 })
  profile!: string;

  /** The user's input as stored in the transcript (text, or the JSON of content blocks). */
  @Column({ type: 'text' })
  input!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  model!: string | null;

  @Column({ type: 'text', nullable: true })
  instructions!: string | null;

  @Column({ name: 'upstream_run_id', type: 'varchar', length: 128, nullable: true })
  upstreamRunId!: string | null;

  @Column({ name: 'user_message_id', type: 'integer', nullable: true })
  userMessageId!: number | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode!: string | null;

  /** Unix seconds. */
  @Column({ name: 'created_at', type: 'double precision' })
  createdAt!: number;

  @Column({ name: 'started_at', type: 'double precision', nullable: true })
  startedAt!: number | null;

  @Column({ name: 'ended_at', type: 'double precision', nullable: true })
  endedAt!: number | null;
}

/** A fresh upstream session per run (the gateway sends the whole history itself). */
export const upstreamSessionOf = (run: Pick<RunEntity, 'id'>): string => `eph_${run.id}`;
