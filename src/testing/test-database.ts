import type { DataSource } from 'typeorm';
import { GroupCommit } from '../database/sql/group-commit';
import { SqlClient } from '../database/sql/sql-client';
import { migratedMemoryDb } from './migrated-memory-db';

export interface TestDatabase {
  dataSource: DataSource;
  sql: SqlClient;
  commit: GroupCommit;
  /** Releases prepared statements and closes the database. */
  destroy(): Promise<void>;
}

/** For unit specs: a migrated in-memory SQLite database with the plain-SQL layer over it. */
export async function testDatabase(): Promise<TestDatabase> {
  const dataSource = await migratedMemoryDb();
  const sql = new SqlClient(dataSource);
  const commit = new GroupCommit(sql);
  return {
    dataSource,
    sql,
    commit,
    destroy: async () => {
      await commit.settled();
      await sql.onApplicationShutdown();
      await dataSource.destroy();
    },
  };
}
