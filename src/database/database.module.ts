import { Global, Logger, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, Migration } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import { prepareSqliteFiles } from './sqlite-files';
import { DatabaseMetrics } from './database.metrics';
import { GroupCommit } from './sql/group-commit';
import { SqlClient } from './sql/sql-client';

/** Any constant: the key of the advisory lock that instances starting together migrate under. */
const MIGRATION_LOCK = 74_017_301;

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

/**
 * Opens the database and brings its schema up to date before anything else uses it. Global:
 * every feature's store reaches the database through `SqlClient` (plain SQL) and `GroupCommit`
 * (batched writes), or through TypeORM for the REST side.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.database),
        // Each feature module registers the entities it reads (TypeOrmModule.forFeature).
        autoLoadEntities: true,
      }),
      dataSourceFactory: async (options) => {
        if (!options) throw new Error('database options are missing');
        if (options.type === 'sqlite') await prepareSqliteFiles(options.database);
        const dataSource = await new DataSource(options).initialize();
        if (options.type === 'postgres' && options.schema) {
          await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
        }
        const applied = await migrateAlone(dataSource);
        if (applied.length > 0) {
          new Logger('Database').log(
            `Applied migrations: ${applied.map((m) => m.name).join(', ')}`,
          );
        }
        return dataSource;
      },
    }),
  ],
  providers: [SqlClient, GroupCommit, DatabaseMetrics],
  exports: [SqlClient, GroupCommit],
})
export class DatabaseModule implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  /** Per-connection settings TypeORM's SQLite driver has no option for. */
  async onModuleInit(): Promise<void> {
    const settings = this.config.database;
    if (settings.type !== 'sqlite') return;
    await this.dataSource.query(`PRAGMA synchronous = ${settings.synchronous}`);
  }
}
