import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * Several instances: which instance holds each session (and so its runs, queue and seqs), with
 * a fencing value that grows with every change of holder; and, as a safety net under that, at
 * most one active run per session in the whole deployment.
 */
export class SessionLeases1796000000000 implements MigrationInterface {
  name = 'SessionLeases1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'session_leases',
        columns: [
          // No foreign key: a session is held before its first run creates its row.
          { name: 'session_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'owner', type: 'varchar', length: '128' },
          { name: 'fence', type: 'bigint' },
          { name: 'lease_until', type: 'double precision' },
        ],
        indices: [{ name: 'idx_session_leases_owner', columnNames: ['owner'] }],
      }),
    );
    await queryRunner.createIndex(
      'runs',
      new TableIndex({
        name: 'idx_runs_one_active_per_session',
        columnNames: ['session_id'],
        isUnique: true,
        where: "status IN ('starting', 'running', 'aborting')",
      }),
    );
    // The takeover scan (every instance, every half lease) reads only the runs still to drive.
    await queryRunner.createIndex(
      'runs',
      new TableIndex({
        name: 'idx_runs_to_drive',
        columnNames: ['session_id'],
        where: "status IN ('queued', 'starting', 'running', 'aborting')",
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('runs', 'idx_runs_to_drive');
    await queryRunner.dropIndex('runs', 'idx_runs_one_active_per_session');
    await queryRunner.dropTable('session_leases');
  }
}
