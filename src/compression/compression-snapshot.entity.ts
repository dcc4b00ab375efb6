import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { SessionEntity } from '../sessions/session.entity';

/**
 * A session's summary of its older turns. It covers every message up to and including
 * `lastMessageId` (a message id, never an index into some array), so the history of a run is
 * this summary followed by the messages after that id.
 */
@Entity('compression_snapshots')
export class CompressionSnapshotEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 128 })
  sessionId!: string;

  @OneToOne(() => SessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'fk_compression_snapshots_session' })
  session?: SessionEntity;

  @Column({ name: 'last_message_id', type: 'integer' })
  lastMessageId!: number;

  @Column({ type: 'text' })
  summary!: string;

  @Column({ name: 'summary_tokens', type: 'integer' })
  summaryTokens!: number;

  /** How many stored messages the summary stands for, over all its updates. */
  @Column({ name: 'covered_messages', type: 'integer' })
  coveredMessages!: number;

  /** Unix seconds (fractional). */
  @Column({ name: 'created_at', type: 'double precision' })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'double precision' })
  updatedAt!: number;
}
