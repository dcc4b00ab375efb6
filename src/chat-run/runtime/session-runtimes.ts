import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EventLog } from '../event-log/event-log.service';
import { SessionRuntime } from './session-runtime';

/** How long a session nobody uses stays in memory. */
const IDLE_MS = 5 * 60 * 1000;
const SWEEP_MS = 60 * 1000;

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

  constructor(private readonly log: EventLog) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => void this.evictIdle(), SWEEP_MS);
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

  /** Evicts idle sessions now (also used by tests and the memory benchmark). */
  async evictIdle(idleMs = IDLE_MS): Promise<number> {
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
