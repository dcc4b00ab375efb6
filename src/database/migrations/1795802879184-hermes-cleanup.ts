import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { incrementIdColumn } from './table-parts';

/**
 * The queue of upstream ephemeral sessions to delete (entity `HermesCleanupTask`).
 * Written with the portable Table API so it runs on SQLite and PostgreSQL alike.
 */
export class HermesCleanup1795802879184 implements MigrationInterface {
  name = 'HermesCleanup1795802879184';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'hermes_cleanup_tasks',
        columns: [
          incrementIdColumn,
          { name: 'profile', type: 'varchar', length: '64' },
          { name: 'upstream_session_id', type: 'varchar', length: '255' },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'next_attempt_at', type: 'double precision', isNullable: true },
          { name: 'last_error', type: 'text', isNullable: true },
          { name: 'created_at', type: 'double precision' },
        ],
        indices: [
          {
            name: 'idx_hermes_cleanup_tasks_session',
            columnNames: ['profile', 'upstream_session_id'],
            isUnique: true,
          },
          { name: 'idx_hermes_cleanup_tasks_due', columnNames: ['next_attempt_at'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('hermes_cleanup_tasks');
  }
}
