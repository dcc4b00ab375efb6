import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { DialectConnection, SqlExecutor, SqlParam, SqlRow, SqlStatement } from './sql-client';

export type PgPool = Pool;

/**
 * PostgreSQL through the pool TypeORM created. Statements run as named prepared statements, so
 * each connection parses a statement once. A transaction holds one connection of the pool for
 * its duration.
 */
export class PostgresConnection implements DialectConnection {
  constructor(private readonly pool: PgPool) {}

  all<T extends SqlRow = SqlRow>(
    statement: SqlStatement,
    params: readonly SqlParam[],
  ): Promise<T[]> {
    return queryRows<T>(this.pool, statement, params);
  }

  async run(statement: SqlStatement, params: readonly SqlParam[]): Promise<number> {
    const result = await this.pool.query(config(statement, params));
    return result.rowCount ?? 0;
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = new ClientExecutor(client);
    try {
      await client.query('BEGIN');
      const result = await work(tx);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch {
        // A connection that cannot even roll back is not given back to the pool.
        client.release(true);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    // The pool is TypeORM's: it ends it.
  }
}

class ClientExecutor implements SqlExecutor {
  constructor(private readonly client: PoolClient) {}

  all<T extends SqlRow = SqlRow>(
    statement: SqlStatement,
    params: readonly SqlParam[] = [],
  ): Promise<T[]> {
    return queryRows<T>(this.client, statement, params);
  }

  async run(statement: SqlStatement, params: readonly SqlParam[] = []): Promise<number> {
    const result = await this.client.query(config(statement, params));
    return result.rowCount ?? 0;
  }
}

async function queryRows<T extends SqlRow>(
  target: Pick<Pool, 'query'>,
  statement: SqlStatement,
  params: readonly SqlParam[],
): Promise<T[]> {
  const result = await target.query<T & QueryResultRow>(config(statement, params));
  return result.rows;
}

function config(statement: SqlStatement, params: readonly SqlParam[]) {
  return { name: statement.name, text: statement.postgresText, values: [...params] };
}
