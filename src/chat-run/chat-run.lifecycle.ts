import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { EventLog } from './event-log/event-log.service';
import { RunExecutor } from './runs/run-executor';
import { RunQueueService } from './runs/run-queue.service';
import { RunStore } from './runs/run.store';
import { SessionRuntimes } from './runtime/session-runtimes';

/**
 * Start: runs recorded as active by the previous process are followed through the upstream's
 * status endpoint, and queues left behind start. Stop: no new runs, partial transcripts and
 * events written, upstream streams closed (the upstream runs go on; the next start recovers them).
 */
@Injectable()
export class ChatRunLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ChatRunLifecycle.name);

  constructor(
    private readonly runs: RunStore,
    private readonly runtimes: SessionRuntimes,
    private readonly queue: RunQueueService,
    private readonly executor: RunExecutor,
    private readonly log: EventLog,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const active = await this.runs.allActive();
    for (const run of active) {
      const runtime = await this.runtimes.acquire(run.sessionId);
      this.queue.resume(runtime, run);
    }
    const idleQueues = await this.runs.sessionsWithIdleQueues();
    for (const sessionId of idleQueues) void this.queue.startNext(sessionId);
    if (active.length + idleQueues.length > 0) {
      this.logger.log(`Recovering ${active.length} active runs and ${idleQueues.length} queues`);
    }
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.queue.stopAccepting();
    const working = [...this.runtimes.all()].filter((runtime) => runtime.isWorking);
    await Promise.allSettled(working.map((runtime) => this.executor.detach(runtime)));
    await this.log.closeAll();
    this.logger.log(
      `Stopped (${signal ?? 'close'}): ${working.length} runs left to recover on the next start`,
    );
  }
}
