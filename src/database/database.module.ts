import { Global, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import { DatabaseMetrics } from './database.metrics';
import { openDatabase } from './open-database';
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
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.database),
        // Each feature module registers the entities it reads (TypeOrmModule.forFeature).
        autoLoadEntities: true,
      }),
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
