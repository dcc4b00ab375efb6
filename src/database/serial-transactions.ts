import { DataSource, EntityManager } from 'typeorm';

const locks = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Runs `work` alone on SQLite. TypeORM's SQLite driver shares one connection, so a plain write
 * issued while another caller's transaction is open would become part of it (and vanish if that
 * transaction rolls back), and two transactions would interleave ("cannot start a transaction
 * within a transaction"). Every write and every transaction therefore takes this lock on SQLite.
 * PostgreSQL has a pool and real isolation, so there `work` runs at once.
 */
export function serialWrite<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  if (dataSource.options.type !== 'sqlite') return work();
  const previous = locks.get(dataSource) ?? Promise.resolve();
  const result = previous.then(work);
  locks.set(
    dataSource,
    result.catch(() => undefined),
  );
  return result;
}

/** `dataSource.transaction` under {@link serialWrite}. */
export function serialTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  return serialWrite(dataSource, () => dataSource.transaction(work));
}
