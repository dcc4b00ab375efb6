import { Logger } from '@nestjs/common';
import { DataSource, type DataSourceOptions, type Migration } from 'typeorm';
import { maskPassword } from '../common/urls/mask-password';
import { prepareSqliteFiles } from './sqlite-files';

/** Any constant: the key of the advisory lock that instances starting together migrate under. */
const MIGRATION_LOCK = 74_017_301;

/**
 * Opens the database and brings its schema up to date, then says in one line which database it
 * is (the migrations applied, by name, at debug).
 */
export async function openDatabase(options: DataSourceOptions): Promise<DataSource> {
  if (options.type === 'sqlite') await prepareSqliteFiles(options.database);
  const dataSource = await new DataSource(options).initialize();
  if (options.type === 'postgres' && options.schema) {
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
  }
  const applied = await migrateAlone(dataSource);
  const logger = new Logger('Database');
  if (applied.length > 0) {
    logger.debug(`Applied migrations: ${applied.map((m) => m.name).join(', ')}`);
  }
  const migrations = applied.length > 0 ? ` (applied ${applied.length} migrations)` : '';
  logger.log(`Using ${describeDatabase(options)}${migrations}`);
  return dataSource;
}

/** `SQLite /data/gateway.sqlite`, `PostgreSQL postgres://app:***@db:5432/chat, schema gw`. */
function describeDatabase(options: DataSourceOptions): string {
  if (options.type === 'sqlite') return `SQLite ${options.database}`;
  if (options.type === 'postgres') {
    const schema = options.schema ? `, schema ${options.schema}` : '';
    return `PostgreSQL ${maskPassword(options.url ?? '')}${schema}`;
  }
  return options.type;
}

/**
 * Runs the pending migrations. On PostgreSQL several instances may start at once on an empty
 * schema: they take turns under an advisory lock, and those that come after find nothing to do.
 */
async function migrateAlone(dataSource: DataSource): Promise<Migration[]> {
  if (dataSource.options.type !== 'postgres') {
    return dataSource.runMigrations({ transaction: 'each' });
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}
