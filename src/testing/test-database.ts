import type { DataSource } from 'typeorm';
import { GroupCommit } from '../database/sql/group-commit';
import { SqlClient } from '../database/sql/sql-client';
import { SessionLeases } from '../cluster/session-leases';
import { configFor } from '../config/testing/config-for';
import { migratedMemoryDb } from './migrated-memory-db';

export interface TestDatabase {
  dataSource: DataSource;
  sql: SqlClient;
  commit: GroupCommit;
  /** One instance's leases: every session is its own, every guard passes. */
  leases: SessionLeases;
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
    leases: new SessionLeases(sql, commit, configFor()),
    destroy: async () => {
      await commit.settled();
      await sql.beforeApplicationShutdown();
      await dataSource.destroy();
    },
  };
}
