import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';
import { counterColumn, incrementIdColumn, sessionForeignKey } from './table-parts';

/** Compression snapshots, per-run usage and the session's stored context estimate. */
export class CompressionAndUsage1795900000000 implements MigrationInterface {
  name = 'CompressionAndUsage1795900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'compression_snapshots',
        columns: [
          { name: 'session_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'last_message_id', type: 'integer' },
          { name: 'summary', type: 'text' },
          { name: 'summary_tokens', type: 'integer' },
          { name: 'covered_messages', type: 'integer' },
          { name: 'created_at', type: 'double precision' },
          { name: 'updated_at', type: 'double precision' },
        ],
        foreignKeys: [sessionForeignKey('compression_snapshots')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'run_usage',
        columns: [
          incrementIdColumn,
          { name: 'session_id', type: 'varchar', length: '128' },
          { name: 'run_id', type: 'varchar', length: '128' },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'profile', type: 'varchar', length: '64' },
          { name: 'model', type: 'varchar', length: '200', isNullable: true },
          counterColumn('input_tokens'),
          counterColumn('output_tokens'),
          counterColumn('cache_read_tokens'),
          counterColumn('cache_write_tokens'),
          counterColumn('reasoning_tokens'),
          { name: 'day', type: 'varchar', length: '10' },
          { name: 'created_at', type: 'double precision' },
        ],
        foreignKeys: [sessionForeignKey('run_usage')],
      }),
    );
    await queryRunner.createIndex(
      'run_usage',
      new TableIndex({ name: 'idx_run_usage_session_id', columnNames: ['session_id', 'id'] }),
    );
    await queryRunner.createIndex(
      'run_usage',
      new TableIndex({ name: 'idx_run_usage_day', columnNames: ['day'] }),
    );
    await queryRunner.addColumns('sessions', [
      new TableColumn(counterColumn('context_input_tokens')),
      new TableColumn(counterColumn('context_output_tokens')),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumns('sessions', ['context_input_tokens', 'context_output_tokens']);
    await queryRunner.dropTable('run_usage');
    await queryRunner.dropTable('compression_snapshots');
  }
}
