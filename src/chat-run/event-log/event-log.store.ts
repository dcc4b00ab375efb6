import { DataSource, LessThanOrEqual, MoreThan } from 'typeorm';
import { serialWrite } from '../../database/serial-transactions';
import { SessionEntity } from '../../sessions/session.entity';
import { SessionEventBatchEntity, SessionEventHeadEntity } from './event-log.entities';
import { LoggedEvent, parseBatch } from './logged-event';

export type HeadRow = Pick<
  SessionEventHeadEntity,
  'sessionId' | 'seqReserved' | 'lastStoredSeq' | 'replayFloor'
>;
export type BatchRow = Pick<
  SessionEventBatchEntity,
  'sessionId' | 'firstSeq' | 'lastSeq' | 'events'
>;

export interface StoredHead extends HeadRow {
  /** Highest `last_seq` among the session's batches (0 if none). */
  maxBatchSeq: number;
}

/**
 * The event log's SQL. Every write is a single statement that is atomic on its own and safe to
 * repeat (an upsert), so a flush needs no transaction; writes take the SQLite write lock
 * (`serialWrite`) so that they never land inside another service's open transaction.
 */
export class EventLogStore {
  constructor(private readonly dataSource: DataSource) {}

  private get heads() {
    return this.dataSource.getRepository(SessionEventHeadEntity);
  }

  private get batches() {
    return this.dataSource.getRepository(SessionEventBatchEntity);
  }

  async readHead(sessionId: string): Promise<StoredHead | null> {
    const head = await this.heads.findOneBy({ sessionId });
    const raw = await this.batches
      .createQueryBuilder('b')
      .select('MAX(b.last_seq)', 'max')
      .where('b.session_id = :sessionId', { sessionId })
      .getRawOne<{ max: string | number | null }>();
    // PostgreSQL returns BIGINT aggregates as strings.
    const maxBatchSeq = Number(raw?.max ?? 0);
    if (!head) return maxBatchSeq > 0 ? emptyHead(sessionId, maxBatchSeq) : null;
    return { ...head, maxBatchSeq };
  }

  /** Batches first, then heads: a crash in between only makes the next open more cautious. */
  write(batches: readonly BatchRow[], heads: readonly HeadRow[]): Promise<void> {
    return serialWrite(this.dataSource, async () => {
      await this.writeBatches(batches);
      await this.upsertHeads(heads);
    });
  }

  writeHeads(heads: readonly HeadRow[]): Promise<void> {
    return serialWrite(this.dataSource, () => this.upsertHeads(heads));
  }

  private async writeBatches(batches: readonly BatchRow[]): Promise<void> {
    if (batches.length > 0) {
      await this.dataSource
        .createQueryBuilder()
        .insert()
        .into(SessionEventBatchEntity)
        .values(batches.map((batch) => ({ ...batch })))
        // A retry after a partly failed write rewrites the batch it already stored.
        .orUpdate(['last_seq', 'events'], ['session_id', 'first_seq'])
        .updateEntity(false)
        .execute();
    }
  }

  private async upsertHeads(heads: readonly HeadRow[]): Promise<void> {
    if (heads.length === 0) return;
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(SessionEventHeadEntity)
      .values(heads.map((head) => ({ ...head })))
      .orUpdate(['seq_reserved', 'last_stored_seq', 'replay_floor'], ['session_id'])
      .updateEntity(false)
      .execute();
  }

  /** Stored events of every batch that reaches past `afterSeq`, in seq order. */
  async loadAfter(sessionId: string, afterSeq: number): Promise<LoggedEvent[]> {
    const rows = await this.batches.find({
      select: { events: true },
      where: { sessionId, lastSeq: MoreThan(afterSeq) },
      order: { firstSeq: 'ASC' },
    });
    return rows.flatMap((row) => parseBatch(row.events));
  }

  /** Deletes the batches that hold nothing above `seq`. */
  async deleteThrough(sessionId: string, seq: number): Promise<void> {
    await serialWrite(this.dataSource, () =>
      this.batches.delete({ sessionId, lastSeq: LessThanOrEqual(seq) }),
    );
  }

  async sessionExists(sessionId: string): Promise<boolean> {
    return this.dataSource.getRepository(SessionEntity).existsBy({ id: sessionId });
  }
}

function emptyHead(sessionId: string, maxBatchSeq: number): StoredHead {
  return { sessionId, seqReserved: 0, lastStoredSeq: 0, replayFloor: 0, maxBatchSeq };
}
