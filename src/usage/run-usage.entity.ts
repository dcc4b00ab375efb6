import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { counterColumn } from '../database/transformers';
import { SessionEntity } from '../sessions/session.entity';

/** What a run consumed: a chat run, or a summariser run made to compress the session. */
export type RunUsageKind = 'run' | 'compression';

/** The token usage the upstream reported for one finished run. */
@Entity('run_usage')
@Index('idx_run_usage_session_id', ['sessionId', 'id'])
@Index('idx_run_usage_day', ['day'])
export class RunUsageEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ name: 'session_id', type: 'varchar', length: 128 })
  sessionId!: string;

  @ManyToOne(() => SessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'fk_run_usage_session' })
  session?: SessionEntity;

  /** The gateway's run id (the upstream's idempotency key). */
  @Column({ name: 'run_id', type: 'varchar', length: 128 })
  runId!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: RunUsageKind;

  @Column({ type: 'varchar', length: 64 })
  profile!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  model!: string | null;

  @Column(counterColumn('input_tokens'))
  inputTokens!: number;

  @Column(counterColumn('output_tokens'))
  outputTokens!: number;

  @Column(counterColumn('cache_read_tokens'))
  cacheReadTokens!: number;

  @Column(counterColumn('cache_write_tokens'))
  cacheWriteTokens!: number;

  @Column(counterColumn('reasoning_tokens'))
  reasoningTokens!: number;

  /** UTC date `YYYY-MM-DD`: grouping by day stays one portable GROUP BY on every database. */
  @Column({ type: 'varchar', length: 10 })
  day!: string;

  /** Unix seconds (fractional). */
  @Column({ name: 'created_at', type: 'double precision' })
  createdAt!: number;
}
