import { Logger } from '@nestjs/common';
import { DataSource, type DataSourceOptions, type Migration } from 'typeorm';
import { maskPassword } from '../common/urls/mask-password';
import { failureReason, failureReasonOrMessage } from '../startup/failure-reason';
import { StartupError } from '../startup/startup-error';
import { POSTGRES_CONNECT_TIMEOUT_MS } from './data-source-options';

/** Any constant: the key of the advisory lock that instances starting together migrate under. */
const MIGRATION_LOCK = 74_017_301;

/**
 * Opens the database and brings its schema up to date, then says in one line which database it
 * is (the migrations applied, by name, at debug). A database that cannot be reached or opened is
 * a {@link StartupError} naming the setting; so is a migration that fails for a reason of the
 * database's (permissions, a full disk), while one that fails otherwise keeps its stack.
 */
export async function openDatabase(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await new DataSource(options).initialize().catch((error: unknown) => {
    throw startupError(options, 'cannot connect', error);
  });
  if (options.type === 'postgres' && options.schema) {
    const schema = options.schema;
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`).catch((error: unknown) => {
      const reason = failureReasonOrMessage(error);
      throw StartupError.setting('DATABASE_SCHEMA', schema, `cannot be created (${reason})`, error);
    });
  }
  const applied = await migrateAlone(dataSource).catch((error: unknown) => {
    throw failureReason(error) === undefined
      ? error
      : startupError(options, 'cannot apply the migrations', error);
  });
  const logger = new Logger('Database');
  if (applied.length > 0) {
    logger.debug(`Applied migrations: ${applied.map((m) => m.name).join(', ')}`);
  }
  const migrations = applied.length > 0 ? ` (applied ${applied.length} migrations)` : '';
  logger.log(`Using ${describeDatabase(options)}${migrations}`);
  return dataSource;
}

/** `DATABASE_URL=postgres://app:***@db/chat: cannot connect (connection refused)`. */
function startupError(options: DataSourceOptions, problem: string, error: unknown): StartupError {
  const reason = failureReasonOrMessage(error);
  if (options.type === 'postgres') {
    const url = maskPassword(options.url ?? '');
    if (reason === 'timed out') {
      const seconds = POSTGRES_CONNECT_TIMEOUT_MS / 1000;
      return StartupError.setting(
        'DATABASE_URL',
        url,
        `${problem} (no answer within ${seconds} s)`,
      );
    }
    return StartupError.setting('DATABASE_URL', url, `${problem} (${reason})`, error);
  }
  // The folder and the file were checked before (prepareSqliteFiles): what fails now is the file.
  const file = options.type === 'sqlite' ? options.database : options.type;
  const action = problem === 'cannot connect' ? 'cannot be opened' : problem;
  return new StartupError(`SQLite database ${file}: ${action} (${reason})`, { cause: error });
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
