import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { counterColumn, incrementIdColumn, sessionForeignKey } from './table-parts';

/** Sessions and their transcript. Written with the portable Table API (SQLite and PostgreSQL). */
export class SessionsAndMessages1764230000000 implements MigrationInterface {
  name = 'SessionsAndMessages1764230000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'profile', type: 'varchar', length: '64', default: "'default'" },
          { name: 'model', type: 'varchar', length: '200', isNullable: true },
          { name: 'title', type: 'varchar', length: '500', isNullable: true },
          { name: 'preview', type: 'varchar', length: '100', isNullable: true },
          { name: 'workspace', type: 'text', isNullable: true },
          { name: 'created_at', type: 'double precision' },
          { name: 'last_active', type: 'double precision' },
          { name: 'message_count', type: 'integer', default: 0 },
          counterColumn('input_tokens'),
          counterColumn('output_tokens'),
          counterColumn('cache_read_tokens'),
          counterColumn('cache_write_tokens'),
          counterColumn('reasoning_tokens'),
        ],
        indices: [{ name: 'idx_sessions_last_active', columnNames: ['last_active', 'id'] }],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'messages',
        columns: [
          incrementIdColumn,
          { name: 'session_id', type: 'varchar', length: '128' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'content', type: 'text', default: "''" },
          { name: 'reasoning', type: 'text', isNullable: true },
          { name: 'tool_calls', type: 'text', isNullable: true },
          { name: 'tool_call_id', type: 'varchar', length: '200', isNullable: true },
          { name: 'tool_name', type: 'varchar', length: '200', isNullable: true },
          { name: 'finish_reason', type: 'varchar', length: '64', isNullable: true },
          { name: 'run_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'token_count', type: 'integer', default: 0 },
          { name: 'timestamp', type: 'double precision' },
        ],
        foreignKeys: [sessionForeignKey('messages')],
      }),
    );
    await queryRunner.createIndex(
      'messages',
      new TableIndex({ name: 'idx_messages_session_id_id', columnNames: ['session_id', 'id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('messages');
    await queryRunner.dropTable('sessions');
  }
}
