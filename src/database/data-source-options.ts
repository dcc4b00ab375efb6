import * as sqlite3 from 'sqlite3';
import { DataSourceOptions } from 'typeorm';
import type { DatabaseSettings } from '../config/app-config';
import { MIGRATIONS } from './migrations';
import { StorableTextClient } from './postgres-text';

/**
 * sqlite3 as TypeORM's driver, minus verbose mode: TypeORM always calls `verbose()`, which wraps
 * every database call to capture a stack trace (4–7% of the gateway's CPU while it streams).
 * Errors still carry SQLite's message and TypeORM's query.
 */
const quietSqlite3 = Object.create(sqlite3, {
  verbose: { value: (): typeof sqlite3 => quietSqlite3 },
}) as typeof sqlite3;

/**
 * How long connecting to PostgreSQL may take: a host that never answers fails the startup (and
 * later a new pooled connection) after this, instead of hanging.
 */
export const POSTGRES_CONNECT_TIMEOUT_MS = 5000;

/** TypeORM options for either backend; the schema itself comes only from migrations. */
export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  const common = {
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    // Failed queries surface as exceptions (and expected ones, like a taken id, are handled).
    logging: false,
  };
  if (settings.type === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      url: settings.url,
      schema: settings.schema,
      connectTimeoutMS: POSTGRES_CONNECT_TIMEOUT_MS,
      // Every pooled connection makes text storable (NUL) before it is sent.
      extra: { Client: StorableTextClient },
    };
  }
  return {
    ...common,
    type: 'sqlite',
    driver: quietSqlite3,
    database: settings.path,
    // WAL lets readers proceed during writes; the busy timeout rides out short write locks.
    // TypeORM's SQLite driver turns foreign keys on for every connection.
    enableWAL: true,
    busyTimeout: 5000,
  };
}
