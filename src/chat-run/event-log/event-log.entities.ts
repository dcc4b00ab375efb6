import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { bigintAsNumber, counterColumn } from '../../database/transformers';
import { SessionEntity } from '../../sessions/session.entity';

/**
 * Where a session's seq numbering stands. `seqReserved` is an upper bound of every seq that may
 * have been handed out; it exceeds `lastStoredSeq` exactly while a process has the log open, so
 * finding it above on open means the previous process died with events that were sent but never
 * stored.
 */
@Entity('session_event_heads')
export class SessionEventHeadEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 128 })
  sessionId!: string;

  @ManyToOne(() => SessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'fk_session_event_heads_session' })
  session?: SessionEntity;

  @Column(counterColumn('seq_reserved'))
  seqReserved!: number;

  @Column(counterColumn('last_stored_seq'))
  lastStoredSeq!: number;

  /** A replay that needs an event at or below this seq cannot be complete (lost in a crash). */
  @Column(counterColumn('replay_floor'))
  replayFloor!: number;
}

/** Consecutive events of one session, written in one flush: a JSON array of wire payloads. */
@Entity('session_event_batches')
@Index('idx_session_event_batches_session_last_seq', ['sessionId', 'lastSeq'])
export class SessionEventBatchEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 128 })
  sessionId!: string;

  @ManyToOne(() => SessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'fk_session_event_batches_session' })
  session?: SessionEntity;

  @PrimaryColumn({ name: 'first_seq', type: 'bigint', transformer: bigintAsNumber })
  firstSeq!: number;

  @Column({ name: 'last_seq', type: 'bigint', transformer: bigintAsNumber })
  lastSeq!: number;

  @Column({ type: 'text' })
  events!: string;
}

export const EVENT_LOG_ENTITIES = [SessionEventHeadEntity, SessionEventBatchEntity];
