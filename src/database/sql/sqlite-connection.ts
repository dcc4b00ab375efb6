import type { Database, RunResult, Statement } from 'sqlite3';
import type { DialectConnection, SqlExecutor, SqlParam, SqlRow, SqlStatement } from './sql-client';

export type SqliteDatabase = Database;

/**
 * SQLite through the sqlite3 `Database` that TypeORM opened (one connection, shared). Each
 * statement is prepared once and kept: preparing it per call, as `Database#run` does, costs
 * more than running it. Transactions are plain `BEGIN`/`COMMIT` on the shared connection; the
 * caller holds the write lock.
 */
export class SqliteConnection implements DialectConnection {
  private readonly prepared = new Map<SqlStatement, Statement>();
  private closed = false;

  constructor(private readonly db: SqliteDatabase) {}

  all<T extends SqlRow = SqlRow>(
    statement: SqlStatement,
    params: readonly SqlParam[],
  ): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const done = (error: Error | null, rows: T[]): void =>
        error ? reject(withQuery(error, statement)) : resolve(rows);
      if (this.closed) this.db.all<T>(statement.text, params, done);
      else this.statementFor(statement).all<T>(params, done);
    });
  }

  run(statement: SqlStatement, params: readonly SqlParam[]): Promise<number> {
    return new Promise((resolve, reject) => {
      const done = function (this: RunResult, error: Error | null): void {
        if (error) reject(withQuery(error, statement));
        else resolve(this.changes);
      };
      if (this.closed) this.db.run(statement.text, params, done);
      else this.statementFor(statement).run(params, done);
    });
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    await this.exec('BEGIN');
    try {
      const result = await work(this);
      await this.exec('COMMIT');
      return result;
    } catch (error) {
      await this.exec('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const statements = [...this.prepared.values()];
    this.prepared.clear();
    await Promise.all(
      statements.map(
        (statement) => new Promise<void>((resolve) => statement.finalize(() => resolve())),
      ),
    );
  }

  private statementFor(statement: SqlStatement): Statement {
    let prepared = this.prepared.get(statement);
    if (!prepared) {
      prepared = this.db.prepare(statement.text);
      this.prepared.set(statement, prepared);
    }
    return prepared;
  }

  private exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.db.exec(sql, (error) => (error ? reject(error) : resolve())),
    );
  }
}

/** sqlite3's errors name neither the statement nor the table: add the statement's text. */
function withQuery(error: Error, statement: SqlStatement): Error {
  error.message = `${error.message} (in: ${statement.text.slice(0, 200)})`;
  return error;
}
