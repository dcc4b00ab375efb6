import { Column, Entity, Index, OneToMany, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../database/transformers';
import { MessageEntity } from './message.entity';

const tokenColumn = { type: 'bigint', default: 0, transformer: bigintAsNumber } as const;

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

  @Column({ name: 'input_tokens', ...tokenColumn })
  inputTokens!: number;

  @Column({ name: 'output_tokens', ...tokenColumn })
  outputTokens!: number;

  @Column({ name: 'cache_read_tokens', ...tokenColumn })
  cacheReadTokens!: number;

  @Column({ name: 'cache_write_tokens', ...tokenColumn })
  cacheWriteTokens!: number;

  @Column({ name: 'reasoning_tokens', ...tokenColumn })
  reasoningTokens!: number;

  /**
   * The latest context estimate (`usage.updated`): tokens of the summary and the user turns
   * after it, and of the assistant and tool turns after it. Kept here so that `resume` and the
   * REST API read it instead of adding up the transcript.
   */
  @Column({ name: 'context_input_tokens', ...tokenColumn })
  contextInputTokens!: number;

  @Column({ name: 'context_output_tokens', ...tokenColumn })
  contextOutputTokens!: number;

  @OneToMany(() => MessageEntity, (message) => message.session)
  messages?: MessageEntity[];
}
