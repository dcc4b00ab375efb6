import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { EventLog } from '../event-log/event-log.service';
import { SessionRuntime } from './session-runtime';

const MAX_SWEEP_MS = 60 * 1000;

/**
 * The in-memory runtimes of sessions in use. A session is evicted once it has no active run,
 * no client in its room and no activity for a while; its event log is closed cleanly then.
 */
@Injectable()
export class SessionRuntimes implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SessionRuntimes.name);
  private readonly runtimes = new Map<string, SessionRuntime>();
  private sweeper: NodeJS.Timeout | undefined;
  /** Tells whether a session's room has listeners; set by the gateway. */
  roomSize: (sessionId: string) => number = () => 0;

  /** How long a session nobody uses stays in memory (`SESSION_IDLE_MS`). */
  private readonly idleMs: number;

  constructor(
    private readonly log: EventLog,
    config: AppConfig,
  ) {
    this.idleMs = config.chatRun.sessionIdleMs;
  }

  onModuleInit(): void {
    // Sweeping at half the idle time keeps a session at most 1.5× the idle time in memory.
    const sweepMs = Math.min(MAX_SWEEP_MS, Math.ceil(this.idleMs / 2));
    this.sweeper = setInterval(() => void this.evictIdle(), sweepMs);
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  get size(): number {
    return this.runtimes.size;
  }

  peek(sessionId: string): SessionRuntime | undefined {
    return this.runtimes.get(sessionId);
  }

  all(): IterableIterator<SessionRuntime> {
    return this.runtimes.values();
  }

  /**
   * The session's runtime, created on first use. Synchronous, so that requests of one session
   * enter its `serialise` chain in the order they arrived.
   */
  get(sessionId: string): SessionRuntime {
    let runtime = this.runtimes.get(sessionId);
    if (!runtime) {
      runtime = new SessionRuntime(sessionId);
      this.runtimes.set(sessionId, runtime);
    }
    runtime.touch();
    return runtime;
  }

  /** The session's runtime with its event log open (so seqs can be handed out); the session must exist. */
  async acquire(sessionId: string): Promise<SessionRuntime> {
    const runtime = this.get(sessionId);
    await this.log.open(sessionId);
    return runtime;
  }

  /** Evicts the sessions idle for `idleMs` now (the sweeper's work; also used by tests). */
  async evictIdle(idleMs = this.idleMs): Promise<number> {
    const cutoff = Date.now() - idleMs;
    let evicted = 0;
    for (const [sessionId, runtime] of this.runtimes) {
      if (runtime.isWorking || runtime.lastUsed > cutoff || this.roomSize(sessionId) > 0) continue;
      this.runtimes.delete(sessionId);
      evicted++;
      try {
        await this.log.close(sessionId);
      } catch (error) {
        this.logger.warn(`Closing the event log of ${sessionId} failed: ${String(error)}`);
      }
    }
    return evicted;
  }
}
