import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { serialWrite } from '../database/serial-transactions';
import { CompressionSnapshotEntity } from './compression-snapshot.entity';

export interface Snapshot {
  sessionId: string;
  /** The newest message the summary covers. */
  lastMessageId: number;
  summary: string;
  summaryTokens: number;
  coveredMessages: number;
}

/** One snapshot per session, replaced as the summary grows; deleted with its session. */
@Injectable()
export class SnapshotStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(sessionId: string): Promise<Snapshot | null> {
    const row = await this.dataSource.manager.findOneBy(CompressionSnapshotEntity, { sessionId });
    return row ? toSnapshot(row) : null;
  }

  async save(snapshot: Snapshot): Promise<Snapshot> {
    const now = Date.now() / 1000;
    const { sessionId, ...fields } = snapshot;
    // One run per session at a time, so update-then-insert cannot race; `createdAt` keeps the
    // time of the session's first compression.
    await serialWrite(this.dataSource, async () => {
      const { manager } = this.dataSource;
      const updated = await manager.update(
        CompressionSnapshotEntity,
        { sessionId },
        { ...fields, updatedAt: now },
      );
      if (!updated.affected) {
        await manager.insert(CompressionSnapshotEntity, {
          ...snapshot,
          createdAt: now,
          updatedAt: now,
        });
      }
    });
    return snapshot;
  }
}

function toSnapshot(row: CompressionSnapshotEntity): Snapshot {
  return {
    sessionId: row.sessionId,
    lastMessageId: row.lastMessageId,
    summary: row.summary,
    summaryTokens: row.summaryTokens,
    coveredMessages: row.coveredMessages,
  };
}
