import { TableColumnOptions, TableForeignKey } from 'typeorm';

/**
 * Pieces the migrations share. Changing one changes no applied schema (migrations that ran are
 * not run again); they only keep the migrations written one way.
 */

/** A counter: BIGINT NOT NULL DEFAULT 0 (token totals, seqs). */
export const counterColumn = (name: string): TableColumnOptions => ({
  name,
  type: 'bigint',
  default: 0,
  isNullable: false,
});

/** An auto-increment integer primary key `id`. */
export const incrementIdColumn: TableColumnOptions = {
  name: 'id',
  type: 'integer',
  isPrimary: true,
  isGenerated: true,
  generationStrategy: 'increment',
};

/** `<table>.session_id → sessions.id`, deleted with the session. Named as the entities name it. */
export const sessionForeignKey = (table: string): TableForeignKey =>
  new TableForeignKey({
    name: `fk_${table}_session`,
    columnNames: ['session_id'],
    referencedTableName: 'sessions',
    referencedColumnNames: ['id'],
    onDelete: 'CASCADE',
  });
