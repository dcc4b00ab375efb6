import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { errorMessage } from '../common/errors/error-message';
import { SessionLeases } from '../cluster/session-leases';
import { AppConfig } from '../config/app-config';
import { GroupCommit } from '../database/sql/group-commit';
import { EventLog } from './event-log/event-log.service';
import { RunQueueService } from './runs/run-queue.service';
import { RunStore } from './runs/run.store';

/**
 * Start: runs recorded as active by the previous process are taken over (followed through the
 * upstream's status endpoint, or created again under the same idempotency key), and queues left
 * behind start. With several instances, each takes over only the sessions nobody holds (their
 * holder died or never was), at start and then every half lease. Stop: no new runs, partial
 * transcripts and events written, upstream streams closed (the upstream runs go on; the next
 * start, or another instance, recovers them).
 */
@Injectable()
export class ChatRunLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ChatRunLifecycle.name);
  private scanner: NodeJS.Timeout | undefined;
  private scanning = false;

  constructor(
    private readonly runs: RunStore,
    private readonly queue: RunQueueService,
    private readonly log: EventLog,
    private readonly commit: GroupCommit,
    private readonly leases: SessionLeases,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.leases.enabled) {
      await this.takeOverOrphans();
      const everyMs = (this.config.cluster?.leaseMs ?? 0) / 2;
      this.scanner = setInterval(() => void this.takeOverOrphans(), everyMs);
      this.scanner.unref();
      return;
    }
    const active = await this.runs.active();
    for (const run of active) await this.queue.recover(run);
    const busy = new Set(active.map((run) => run.sessionId));
    const idleQueues = (await this.runs.sessionsWithQueues()).filter((id) => !busy.has(id));
    for (const sessionId of idleQueues) void this.queue.startNext(sessionId);
    if (active.length + idleQueues.length > 0) {
      this.logger.log(`Recovering ${active.length} active runs and ${idleQueues.length} queues`);
    }
  }

  /** Several instances: every session with runs to drive and no living holder is taken over. */
  private async takeOverOrphans(): Promise<void> {
    if (this.scanning) return;
    this.scanning = true;
    try {
      for (const sessionId of await this.leases.orphans()) await this.takeOver(sessionId);
    } catch (error) {
      this.logger.warn(`Looking for sessions to take over failed: ${errorMessage(error)}`);
    } finally {
      this.scanning = false;
    }
  }

  private async takeOver(sessionId: string): Promise<void> {
    if (!(await this.leases.acquire(sessionId))) return;
    this.logger.log(`Taking over session ${sessionId}`);
    try {
      await this.queue.takeOver(sessionId);
    } catch (error) {
      // Let go, so that it is an orphan again for the next scan (here or on another instance)
      // instead of held by an instance that does nothing with it.
      this.logger.warn(`Taking over session ${sessionId} failed: ${errorMessage(error)}`);
      await this.leases.release(sessionId).catch(() => undefined);
    }
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    clearInterval(this.scanner);
    this.queue.stopAccepting();
    const detached = await this.queue.detachAll();
    await this.log.closeAll();
    await this.commit.settled();
    this.logger.log(
      `Stopped (${signal ?? 'close'}): ${detached} runs left to recover on the next start`,
    );
  }
}
