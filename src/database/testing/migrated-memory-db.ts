import { DataSource } from 'typeorm';
import { ENTITIES } from '../entities';
import { MIGRATIONS } from '../migrations';

/**
 * For unit specs: an in-memory SQLite database built by the real migrations (not by
 * `synchronize`), so every spec also runs against the schema production gets.
 */
export function migratedMemoryDb(): Promise<DataSource> {
  return new DataSource({
    type: 'sqlite',
    database: ':memory:',
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    logging: false,
  }).initialize();
}
