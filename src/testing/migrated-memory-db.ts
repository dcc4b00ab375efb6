import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../database/migrations';
import { HermesCleanupTask } from '../hermes/home/hermes-cleanup-task.entity';
import { MessageEntity } from '../sessions/message.entity';
import { SessionEntity } from '../sessions/session.entity';
import { RunUsageEntity } from '../usage/run-usage.entity';

/**
 * The entities the REST side reads through TypeORM, as their modules register them
 * (`TypeOrmModule.forFeature`); the run path's tables are plain SQL and need none.
 */
export const TYPEORM_ENTITIES = [SessionEntity, MessageEntity, RunUsageEntity, HermesCleanupTask];

/**
 * For unit specs: an in-memory SQLite database built by the real migrations (not by
 * `synchronize`), so every spec also runs against the schema production gets.
 */
export function migratedMemoryDb(): Promise<DataSource> {
  return new DataSource({
    type: 'sqlite',
    database: ':memory:',
    entities: TYPEORM_ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    logging: false,
  }).initialize();
}
