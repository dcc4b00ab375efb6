import { TableForeignKey } from 'typeorm';

/** `<table>.session_id → sessions.id`, deleted with the session. Named as the entities name it. */
export const sessionForeignKey = (table: string): TableForeignKey =>
  new TableForeignKey({
    name: `fk_${table}_session`,
    columnNames: ['session_id'],
    referencedTableName: 'sessions',
    referencedColumnNames: ['id'],
    onDelete: 'CASCADE',
  });
