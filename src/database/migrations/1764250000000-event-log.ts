import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { counterColumn, sessionForeignKey } from './table-parts';

/**
 * The stored event log used for exact replay (`EventLog`): per-session seq heads and batches of
 * wire events. Written with the portable Table API so it runs on SQLite and PostgreSQL alike.
 */
export class EventLog1764250000000 implements MigrationInterface {
  name = 'EventLog1764250000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'session_event_heads',
        columns: [
          { name: 'session_id', type: 'varchar', length: '128', isPrimary: true },
          counterColumn('seq_reserved'),
          counterColumn('last_stored_seq'),
          counterColumn('replay_floor'),
        ],
        foreignKeys: [sessionForeignKey('session_event_heads')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'session_event_batches',
        columns: [
          { name: 'session_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'first_seq', type: 'bigint', isPrimary: true },
          { name: 'last_seq', type: 'bigint' },
          { name: 'events', type: 'text' },
        ],
        foreignKeys: [sessionForeignKey('session_event_batches')],
      }),
    );
    await queryRunner.createIndex(
      'session_event_batches',
      new TableIndex({
        name: 'idx_session_event_batches_session_last_seq',
        columnNames: ['session_id', 'last_seq'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('session_event_batches');
    await queryRunner.dropTable('session_event_heads');
  }
}
