import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { errorMessage } from '../../common/errors/error-message';
import { SessionLeases } from '../../cluster/session-leases';
import { AppConfig } from '../../config/app-config';
import { TranscriptStore } from '../../sessions/transcript.store';
import { EventLog } from '../event-log/event-log.service';
import { RunStore } from '../runs/run.store';
import { SessionEmitter } from '../session-emitter';
import { SessionRuntime } from './session-runtime';

const MAX_SWEEP_MS = 60 * 1000;

/**
 * The in-memory runtimes of sessions in use: created on first use, loaded once from the store
 * (the session row, its queue, its event log), and evicted once a session has no active run, no
 * client in its room and no activity for a while (its event log is closed cleanly then).
 */
@Injectable()
export class SessionRuntimes implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SessionRuntimes.name);
  private readonly runtimes = new Map<string, SessionRuntime>();
  private sweeper: NodeJS.Timeout | undefined;

  /** How long a session nobody uses stays in memory (`SESSION_IDLE_MS`). */
  private readonly idleMs: number;

  constructor(
    private readonly log: EventLog,
    private readonly sessions: TranscriptStore,
    private readonly runs: RunStore,
    private readonly emitter: SessionEmitter,
    private readonly leases: SessionLeases,
    config: AppConfig,
  ) {
    this.idleMs = config.chatRun.sessionIdleMs;
    leases.watch({
      ended: (sessionId, lost) => {
        if (lost) void this.drop(sessionId);
      },
    });
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

  /** Whether this instance holds the session (always, with one instance). */
  holds(sessionId: string): boolean {
    return this.leases.holds(sessionId);
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

  /** The session's runtime, loaded: facts known, and for an existing session its log open. */
  async acquire(sessionId: string): Promise<SessionRuntime> {
    const runtime = this.get(sessionId);
    await this.load(runtime);
    return runtime;
  }

  /**
   * Reads what the runtime holds of the store, once: the session row and, if it exists, its
   * queue, with its event log opened (seqs can be handed out after this). A failed load is
   * tried again by the next caller.
   */
  load(runtime: SessionRuntime): Promise<void> {
    runtime.loaded ??= this.read(runtime).catch((error: unknown) => {
      runtime.loaded = undefined;
      throw error;
    });
    return runtime.loaded;
  }

  /**
   * The session changed under the runtime (deleted, or deleted and created again through the
   * REST API): what it held is dropped and read again.
   */
  async reload(runtime: SessionRuntime): Promise<void> {
    this.log.discard(runtime.sessionId);
    runtime.facts = null;
    runtime.queue = [];
    runtime.history.reset();
    runtime.loaded = undefined;
    await this.load(runtime);
  }

  /** Evicts the sessions idle for `idleMs` now (the sweeper's work; also used by tests). */
  async evictIdle(idleMs = this.idleMs): Promise<number> {
    const cutoff = Date.now() - idleMs;
    let evicted = 0;
    for (const [sessionId, runtime] of this.runtimes) {
      if (
        runtime.isWorking ||
        runtime.queue.length > 0 ||
        runtime.lastUsed > cutoff ||
        this.emitter.listeners(sessionId) > 0
      ) {
        continue;
      }
      this.runtimes.delete(sessionId);
      evicted++;
      try {
        await this.log.close(sessionId);
        // Written and closed: another instance may take the session from here, unless a
        // request brought it back here meanwhile.
        if (!this.runtimes.has(sessionId)) await this.leases.release(sessionId);
      } catch (error) {
        this.logger.warn(`Closing the event log of ${sessionId} failed: ${errorMessage(error)}`);
      }
    }
    return evicted;
  }

  /**
   * Another instance holds the session now (this one lost its lease): its run is let go of
   * without a word (the new holder finishes it and announces its end), and nothing of it is
   * kept or written here any more.
   */
  async drop(sessionId: string): Promise<void> {
    const runtime = this.runtimes.get(sessionId);
    if (!runtime) return;
    this.runtimes.delete(sessionId);
    this.log.discard(sessionId);
    await runtime.activeRun?.detach();
  }

  private async read(runtime: SessionRuntime): Promise<void> {
    const facts = await this.sessions.facts(runtime.sessionId);
    if (facts) {
      const [queue] = await Promise.all([
        this.runs.queued(runtime.sessionId),
        this.log.open(runtime.sessionId),
      ]);
      runtime.queue = queue;
    }
    runtime.facts = facts;
  }
}
