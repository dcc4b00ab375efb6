import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One upstream ephemeral session waiting to be deleted (`hermes sessions delete <id> --yes`).
 * The row is deleted once the session is gone; after the last attempt it stays, with
 * `lastError` and no `nextAttemptAt`, so that failures remain visible.
 */
@Entity('hermes_cleanup_tasks')
@Index('idx_hermes_cleanup_tasks_session', ['profile', 'upstreamSessionId'], { unique: true })
@Index('idx_hermes_cleanup_tasks_due', ['nextAttemptAt'])
export class HermesCleanupTask {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'varchar', length: 64 })
  profile!: string;

  @Column({ name: 'upstream_session_id', type: 'varchar', length: 255 })
  upstreamSessionId!: string;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  /** Unix seconds (fractional) when the next attempt is due; `null` once the task gave up. */
  @Column({ name: 'next_attempt_at', type: 'double precision', nullable: true })
  nextAttemptAt!: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Unix seconds (fractional). */
  @Column({ name: 'created_at', type: 'double precision' })
  createdAt!: number;
}
