import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { GroupCommit } from '../database/sql/group-commit';
import { EventLog } from './event-log/event-log.service';
import { RunQueueService } from './runs/run-queue.service';
import { RunStore } from './runs/run.store';

/**
 * Start: runs recorded as active by the previous process are taken over (followed through the
 * upstream's status endpoint, or created again under the same idempotency key), and queues left
 * behind start. Stop: no new runs, partial transcripts and events written, upstream streams
 * closed (the upstream runs go on; the next start recovers them).
 */
@Injectable()
export class ChatRunLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ChatRunLifecycle.name);

  constructor(
    private readonly runs: RunStore,
    private readonly queue: RunQueueService,
    private readonly log: EventLog,
    private readonly commit: GroupCommit,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const active = await this.runs.active();
    for (const run of active) await this.queue.recover(run);
    const busy = new Set(active.map((run) => run.sessionId));
    const idleQueues = (await this.runs.sessionsWithQueues()).filter((id) => !busy.has(id));
    for (const sessionId of idleQueues) void this.queue.startNext(sessionId);
    if (active.length + idleQueues.length > 0) {
      this.logger.log(`Recovering ${active.length} active runs and ${idleQueues.length} queues`);
    }
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.queue.stopAccepting();
    const detached = await this.queue.detachAll();
    await this.log.closeAll();
    await this.commit.settled();
    this.logger.log(
      `Stopped (${signal ?? 'close'}): ${detached} runs left to recover on the next start`,
    );
  }
}
