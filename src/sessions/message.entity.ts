import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { MessageRole } from './session.types';
import { SessionEntity } from './session.entity';

@Entity('messages')
@Index('idx_messages_session_id_id', ['sessionId', 'id'])
export class MessageEntity {
  /** Auto-increment: the order of the transcript. */
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ name: 'session_id', type: 'varchar', length: 128 })
  sessionId!: string;

  @ManyToOne(() => SessionEntity, (session) => session.messages, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'fk_messages_session' })
  session?: SessionEntity;

  @Column({ type: 'varchar', length: 16 })
  role!: MessageRole;

  @Column({ type: 'text', default: '' })
  content!: string;

  @Column({ type: 'text', nullable: true })
  reasoning!: string | null;

  /** JSON array of `{id, type:'function', function:{name, arguments}}`. */
  @Column({ name: 'tool_calls', type: 'text', nullable: true })
  toolCalls!: string | null;

  @Column({ name: 'tool_call_id', type: 'varchar', length: 200, nullable: true })
  toolCallId!: string | null;

  @Column({ name: 'tool_name', type: 'varchar', length: 200, nullable: true })
  toolName!: string | null;

  @Column({ name: 'finish_reason', type: 'varchar', length: 64, nullable: true })
  finishReason!: string | null;

  @Column({ name: 'run_id', type: 'varchar', length: 128, nullable: true })
  runId!: string | null;

  /** Computed once, when the message is stored. */
  @Column({ name: 'token_count', type: 'integer', default: 0 })
  tokenCount!: number;

  /** Unix seconds (fractional). */
  @Column({ type: 'double precision' })
  timestamp!: number;
}
