import { Column, Entity, Index, OneToMany, PrimaryColumn } from 'typeorm';
import { counterColumn } from '../database/transformers';
import { MessageEntity } from './message.entity';

@Entity('sessions')
@Index('idx_sessions_last_active', ['lastActive', 'id'])
export class SessionEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  id!: string;

  @Column({ type: 'varchar', length: 64, default: 'default' })
  profile!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  model!: string | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  title!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  preview!: string | null;

  @Column({ type: 'text', nullable: true })
  workspace!: string | null;

  /** Unix seconds (fractional). */
  @Column({ name: 'created_at', type: 'double precision' })
  createdAt!: number;

  @Column({ name: 'last_active', type: 'double precision' })
  lastActive!: number;

  @Column({ name: 'message_count', type: 'integer', default: 0 })
  messageCount!: number;

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

  /**
   * The latest context estimate (`usage.updated`): tokens of the summary and the user turns
   * after it, and of the assistant and tool turns after it. Kept here so that `resume` and the
   * REST API read it instead of adding up the transcript.
   */
  @Column(counterColumn('context_input_tokens'))
  contextInputTokens!: number;

  @Column(counterColumn('context_output_tokens'))
  contextOutputTokens!: number;

  @OneToMany(() => MessageEntity, (message) => message.session)
  messages?: MessageEntity[];
}
