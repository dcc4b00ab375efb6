import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { sessionForeignKey } from './table-parts';

/** Runs (the durable queue, run records and idempotency of `queue_id`). */
export class Runs1764240000000 implements MigrationInterface {
  name = 'Runs1764240000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'runs',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'session_id', type: 'varchar', length: '128' },
          { name: 'queue_id', type: 'varchar', length: '128' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'profile', type: 'varchar', length: '64' },
          { name: 'input', type: 'text' },
          { name: 'model', type: 'varchar', length: '200', isNullable: true },
          { name: 'instructions', type: 'text', isNullable: true },
          { name: 'upstream_run_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'user_message_id', type: 'integer', isNullable: true },
          { name: 'error', type: 'text', isNullable: true },
          { name: 'error_code', type: 'varchar', length: '64', isNullable: true },
          { name: 'created_at', type: 'double precision' },
          { name: 'started_at', type: 'double precision', isNullable: true },
          { name: 'ended_at', type: 'double precision', isNullable: true },
        ],
        foreignKeys: [sessionForeignKey('runs')],
      }),
    );
    await queryRunner.createIndex(
      'runs',
      new TableIndex({ name: 'idx_runs_session_status', columnNames: ['session_id', 'status'] }),
    );
    await queryRunner.createIndex(
      'runs',
      new TableIndex({
        name: 'idx_runs_session_queue_id',
        columnNames: ['session_id', 'queue_id'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('runs');
  }
}
