import { DataSourceOptions } from 'typeorm';
import type { DatabaseSettings } from '../config/app-config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** TypeORM options for either backend; the schema itself comes only from migrations. */
export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    // Failed queries surface as exceptions (and expected ones, like a taken id, are handled).
    logging: false,
  };
  if (settings.type === 'postgres') {
    return { ...common, type: 'postgres', url: settings.url, schema: settings.schema };
  }
  return {
    ...common,
    type: 'sqlite',
    database: settings.path,
    // WAL lets readers proceed during writes; the busy timeout rides out short write locks.
    // TypeORM's SQLite driver turns foreign keys on for every connection.
    enableWAL: true,
    busyTimeout: 5000,
  };
}
