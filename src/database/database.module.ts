import { Global, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import { DatabaseMetrics } from './database.metrics';
import { openDatabase } from './open-database';
import { prepareSqliteFiles } from './sqlite-files';
import { GroupCommit } from './sql/group-commit';
import { SqlClient } from './sql/sql-client';

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
      useFactory: async (config: AppConfig) => {
        if (config.database.type === 'sqlite') await prepareSqliteFiles(config.database);
        return {
          ...dataSourceOptions(config.database),
          // Each feature module registers the entities it reads (TypeOrmModule.forFeature).
          autoLoadEntities: true,
          // A database that cannot be reached at startup is one clear line (openDatabase), at
          // once: TypeORM's default is 9 more attempts 3 s apart, each logging a stack.
          retryAttempts: 0,
          toRetry: () => false,
        };
      },
      dataSourceFactory: async (options) => {
        if (!options) throw new Error('database options are missing');
        return openDatabase(options);
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
