import { DataSource, EntityManager } from 'typeorm';

const queues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * `dataSource.transaction`, but one at a time on SQLite. TypeORM's SQLite driver shares a single
 * connection, so two concurrent transactions would interleave on it ("cannot start a transaction
 * within a transaction", or one's rollback undoing the other's writes). PostgreSQL has a pool and
 * real isolation, so there it runs as is.
 */
export function serialTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (dataSource.options.type !== 'sqlite') return dataSource.transaction(work);
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const result = previous.then(() => dataSource.transaction(work));
  queues.set(
    dataSource,
    result.catch(() => undefined),
  );
  return result;
}
