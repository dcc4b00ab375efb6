import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { serialWrite } from '../serial-transactions';
import { PostgresConnection, type PgPool } from './postgres-connection';
import { SqliteConnection, type SqliteDatabase } from './sqlite-connection';

/** A value bound to a `?` placeholder. */
export type SqlParam = string | number | boolean | null;

/** A row as the driver returns it (PostgreSQL answers BIGINT and aggregates as strings). */
export type SqlRow = Record<string, unknown>;

/**
 * One statement, written once with `?` placeholders and table names already qualified, in the
 * text of both dialects. Made by {@link SqlClient.statement} when a store is constructed, so
 * the per-call cost is binding and running: no query building, no re-parsing.
 */
export class SqlStatement {
  constructor(
    /** The text as written (`?` placeholders), run by SQLite. */
    readonly text: string,
    /** The text with `$1…$n` placeholders, run by PostgreSQL as a named prepared statement. */
    readonly postgresText: string,
    readonly name: string,
  ) {}
}

/** Runs statements: on the shared connection, or inside a transaction. */
export interface SqlExecutor {
  /** The rows of a query (or of `… RETURNING`). */
  all<T extends SqlRow = SqlRow>(
    statement: SqlStatement,
    params?: readonly SqlParam[],
  ): Promise<T[]>;
  /** A write; resolves to the number of rows it changed. */
  run(statement: SqlStatement, params?: readonly SqlParam[]): Promise<number>;
}

/** What a dialect's connection does; {@link SqliteConnection} and {@link PostgresConnection}. */
export interface DialectConnection extends SqlExecutor {
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type SqlDialect = 'sqlite' | 'postgres';

/**
 * Plain SQL on TypeORM's own connection (SQLite) or pool (PostgreSQL), for the run path: the
 * statements a run makes are few and fixed, and TypeORM's query building and entity hydration
 * cost more than the database work itself (about half of a run start's CPU when measured).
 * Statements are prepared once and reused. The REST side keeps TypeORM.
 *
 * Writes outside {@link transaction} are for one-statement writes only; on SQLite they take the
 * same lock as TypeORM's writes (`serialWrite`), so nothing lands inside another caller's open
 * transaction.
 */
@Injectable()
export class SqlClient implements BeforeApplicationShutdown {
  readonly dialect: SqlDialect;
  private readonly schema: string | undefined;
  private readonly connection: DialectConnection;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    const options = dataSource.options;
    if (options.type === 'postgres') {
      this.dialect = 'postgres';
      this.schema = options.schema;
      this.connection = new PostgresConnection(driverHandle<PgPool>(dataSource, 'master'));
    } else if (options.type === 'sqlite') {
      this.dialect = 'sqlite';
      this.connection = new SqliteConnection(
        driverHandle<SqliteDatabase>(dataSource, 'databaseConnection'),
      );
    } else {
      throw new Error(`Unsupported database type ${options.type}`);
    }
  }

  /** A table name, qualified with the configured PostgreSQL schema. */
  table(name: string): string {
    return this.schema ? `"${this.schema}"."${name}"` : name;
  }

  /** Prepares a statement's texts once (see {@link SqlStatement}). */
  statement(text: string): SqlStatement {
    let index = 0;
    const postgresText = text.replace(/\?/g, () => `$${++index}`);
    const name = `hx_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    return new SqlStatement(text, postgresText, name);
  }

  all<T extends SqlRow = SqlRow>(
    statement: SqlStatement,
    params: readonly SqlParam[] = [],
  ): Promise<T[]> {
    return this.connection.all<T>(statement, params);
  }

  run(statement: SqlStatement, params: readonly SqlParam[] = []): Promise<number> {
    return serialWrite(this.dataSource, () => this.connection.run(statement, params));
  }

  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws. On
   * SQLite under the write lock; on PostgreSQL on a connection of its own.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return serialWrite(this.dataSource, () => this.connection.transaction(work));
  }

  /**
   * Releases prepared statements before TypeORM closes the database (SQLite refuses to close
   * with statements open), which it does in its `onApplicationShutdown`, the deepest module
   * first. Whatever other modules still write while shutting down (their own
   * `beforeApplicationShutdown`, in any order with this one) gets one-off statements instead.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}

/** The driver's own handle (sqlite3 `Database`, pg `Pool`), which TypeORM types as `any`. */
function driverHandle<T>(dataSource: DataSource, field: 'master' | 'databaseConnection'): T {
  const driver = dataSource.driver as unknown as Record<string, unknown>;
  const handle = driver[field];
  if (!handle) throw new Error(`The ${dataSource.options.type} driver has no ${field} yet`);
  return handle as T;
}

/** A text column's value (PostgreSQL may answer numbers for numeric expressions). */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString();
  return '';
}

/** A nullable text column's value. */
export function nullableTextOf(value: unknown): string | null {
  return value === null || value === undefined ? null : textOf(value);
}
