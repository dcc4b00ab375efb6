import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, Not } from 'typeorm';
import { serialWrite } from '../../database/serial-transactions';
import { ACTIVE_RUN_STATUSES, RunEntity, RunStatus } from './run.entity';

/** A `queue_id` is remembered this long after its run ended (idempotent `run`). */
const DUPLICATE_WINDOW_S = 24 * 60 * 60;

export type NewRun = Pick<
  RunEntity,
  'id' | 'sessionId' | 'queueId' | 'profile' | 'input' | 'model' | 'instructions'
>;

export interface RunEnd {
  status: Extract<RunStatus, 'completed' | 'failed' | 'cancelled' | 'interrupted'>;
  error?: string | null;
  errorCode?: string | null;
}

/** Run records: the durable queue, the active run of each session and finished runs. */
@Injectable()
export class RunStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get runs() {
    return this.dataSource.getRepository(RunEntity);
  }

  /** The run a repeated `queue_id` refers to, if the session accepted it recently. */
  async findByQueueId(sessionId: string, queueId: string): Promise<RunEntity | null> {
    const run = await this.runs.findOne({
      where: { sessionId, queueId },
      order: { createdAt: 'DESC' },
    });
    if (!run) return null;
    // Past the window the id is free again; the old record stays.
    const recent = run.endedAt === null || run.endedAt > Date.now() / 1000 - DUPLICATE_WINDOW_S;
    return recent ? run : null;
  }

  async insert(run: NewRun, status: Extract<RunStatus, 'queued' | 'starting'>): Promise<RunEntity> {
    const now = Date.now() / 1000;
    const entity = this.runs.create({
      ...run,
      status,
      upstreamRunId: null,
      userMessageId: null,
      error: null,
      errorCode: null,
      createdAt: now,
      startedAt: status === 'starting' ? now : null,
      endedAt: null,
    });
    await serialWrite(this.dataSource, () => this.runs.insert(entity));
    return entity;
  }

  queued(sessionId: string): Promise<RunEntity[]> {
    return this.runs.find({
      where: { sessionId, status: 'queued' },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  countQueued(sessionId: string): Promise<number> {
    return this.runs.countBy({ sessionId, status: 'queued' });
  }

  /** Runs that were active when the previous process stopped. */
  allActive(): Promise<RunEntity[]> {
    return this.runs.find({ where: { status: In([...ACTIVE_RUN_STATUSES]) } });
  }

  /** Sessions with queued runs but no active run (a queue left behind by a stop). */
  async sessionsWithIdleQueues(): Promise<string[]> {
    // Two small queries instead of a raw subquery, which would not carry the configured schema.
    const [queued, active] = await Promise.all([
      this.runs.find({ select: { sessionId: true }, where: { status: 'queued' } }),
      this.allActive(),
    ]);
    const busy = new Set(active.map((run) => run.sessionId));
    return [...new Set(queued.map((run) => run.sessionId))].filter((id) => !busy.has(id));
  }

  /** Takes the oldest queued run of the session and marks it starting; null when none. */
  async dequeue(sessionId: string): Promise<RunEntity | null> {
    const [next] = await this.queued(sessionId);
    if (!next) return null;
    next.status = 'starting';
    next.startedAt = Date.now() / 1000;
    await serialWrite(this.dataSource, () =>
      this.runs.update(
        { id: next.id, status: 'queued' },
        { status: 'starting', startedAt: next.startedAt },
      ),
    );
    return next;
  }

  /** Removes a queued run; false when it was not queued (unknown, or already started). */
  async cancelQueued(sessionId: string, queueId: string): Promise<boolean> {
    const result = await serialWrite(this.dataSource, () =>
      this.runs.update(
        { sessionId, queueId, status: 'queued' },
        { status: 'cancelled', endedAt: Date.now() / 1000, errorCode: 'cancelled_before_start' },
      ),
    );
    return (result.affected ?? 0) > 0;
  }

  async update(
    id: string,
    changes: Partial<Pick<RunEntity, 'status' | 'upstreamRunId' | 'userMessageId'>>,
  ): Promise<void> {
    await serialWrite(this.dataSource, () => this.runs.update({ id }, changes));
  }

  async end(id: string, end: RunEnd): Promise<void> {
    await serialWrite(this.dataSource, () =>
      this.runs.update(
        { id, status: Not(In(['completed', 'failed', 'cancelled', 'interrupted'])) },
        {
          status: end.status,
          error: end.error ?? null,
          errorCode: end.errorCode ?? null,
          endedAt: Date.now() / 1000,
        },
      ),
    );
  }
}
