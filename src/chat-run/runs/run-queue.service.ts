import { Injectable, Logger } from '@nestjs/common';
import { LeaseLostError } from '../../cluster/session-leases';
import { AppError } from '../../common/errors/app-error';
import { errorMessage } from '../../common/errors/error-message';
import { storedUserContent, type ContentBlock } from '../../content/content-blocks';
import { TranscriptStore } from '../../sessions/transcript.store';
import { EventLog } from '../event-log/event-log.service';
import { RunCaps } from '../run-caps';
import type { SessionRuntime } from '../runtime/session-runtime';
import { SessionRuntimes } from '../runtime/session-runtimes';
import { ChatSocket, SessionEmitter } from '../session-emitter';
import { newSessionRow, startFresh } from './fresh-session';
import { newQueueId, newRunId } from './run-ids';
import { RunLedger, SessionChangedError, type StoredUserMessage } from './run-ledger';
import { RunPipelines, type SessionlessRequest, type StoredRunMode } from './run-pipelines';
import { RunStore, type NewRun, type RunRecord } from './run.store';

export interface RunRequest {
  sessionId: string;
  profile: string;
  input: string | ContentBlock[];
  model?: string;
  instructions?: string;
  queueId?: string;
}

export interface RunAccepted {
  status: 'started' | 'queued' | 'duplicate';
  queueId: string;
  queueLength: number;
}

const HANDOVER_RETRY_MS = 500;
const HANDOVER_MAX_RETRY_MS = 60_000;

/**
 * Per-session FIFO of runs: one active run per session, sessions in parallel. A run is accepted
 * (stored, queued or started) here, its pipeline is launched here, and when it has ended the
 * next queued run starts. The queue lives in the `runs` table, so it survives restarts; the
 * runtime keeps it in memory while the session is in use, and every decision of one session is
 * serialised through its runtime.
 */
@Injectable()
export class RunQueueService {
  private readonly logger = new Logger(RunQueueService.name);
  private accepting = true;

  constructor(
    private readonly runtimes: SessionRuntimes,
    private readonly ledger: RunLedger,
    private readonly pipelines: RunPipelines,
    private readonly transcripts: TranscriptStore,
    private readonly runs: RunStore,
    private readonly log: EventLog,
    private readonly emitter: SessionEmitter,
    private readonly caps: RunCaps = RunCaps.unlimited(),
  ) {}

  /** Refuses new runs from now on (shutdown). */
  stopAccepting(): void {
    this.accepting = false;
  }

  async submit(request: RunRequest): Promise<RunAccepted> {
    if (!this.accepting) throw shuttingDown();
    const runtime = this.runtimes.get(request.sessionId);
    return runtime.serialise(() => this.accept(runtime, request));
  }

  /**
   * A run without a session: streamed to its socket only, stored nowhere, and stopped upstream
   * when that socket goes away.
   */
  runWithoutSession(socket: ChatSocket, request: SessionlessRequest): void {
    if (!this.accepting) throw shuttingDown();
    // Refused before anything of the run exists.
    const release = this.caps.takeSessionlessSlot();
    const pipeline = this.pipelines.sessionless(socket, request);
    const abandon = (): void => pipeline.abandon();
    socket.once('disconnect', abandon);
    void pipeline.run().finally(() => {
      release();
      socket.off('disconnect', abandon);
    });
  }

  async cancel(
    sessionId: string,
    queueId: string,
  ): Promise<{ removed: boolean; queueLength: number }> {
    const runtime = await this.runtimes.acquire(sessionId);
    if (!runtime.exists) throw AppError.unknownSession(sessionId);
    return runtime.serialise(async () => {
      const removed = await this.ledger.cancelQueued(sessionId, queueId);
      if (removed) {
        runtime.queue = runtime.queue.filter((run) => run.queueId !== queueId);
        this.emitter.toSession(sessionId, 'run.queued', { queue_length: runtime.queue.length });
      }
      return { removed, queueLength: runtime.queue.length };
    });
  }

  /** Aborts the session's active run; false when it has none. */
  async abort(sessionId: string): Promise<boolean> {
    const active = this.runtimes.peek(sessionId)?.activeRun;
    if (!active) return false;
    await active.abort();
    return true;
  }

  /** Answers the active run's pending `approval.request`. */
  async respondToApproval(sessionId: string, choice: string, requestId?: string): Promise<void> {
    const active = this.runtimes.peek(sessionId)?.activeRun;
    if (!active) {
      throw new AppError(
        'no_pending_approval',
        `Session '${sessionId}' has no run waiting for approval`,
        409,
      );
    }
    await active.respondToApproval(choice, requestId);
  }

  /**
   * Starts the next queued run of a session that has none active (after a run, or at startup).
   * Never rejects: a database hiccup is logged and retried with backoff, so a queue never stalls.
   */
  async startNext(sessionId: string, attempt = 1): Promise<void> {
    try {
      await this.dequeue(sessionId);
    } catch (error) {
      if (error instanceof LeaseLostError) {
        // Its queue is another instance's to drive now.
        this.logger.warn(`Session ${sessionId} moved to another instance before its next run`);
        return;
      }
      const delay = Math.min(HANDOVER_RETRY_MS * 2 ** (attempt - 1), HANDOVER_MAX_RETRY_MS);
      this.logger.error(
        `Starting the next run of ${sessionId} failed (${errorMessage(error)}); retrying in ${delay} ms`,
      );
      setTimeout(() => void this.startNext(sessionId, attempt + 1), delay).unref();
    }
  }

  /** Takes over a run that was active when the previous process stopped. */
  async recover(run: RunRecord): Promise<void> {
    const runtime = await this.runtimes.acquire(run.sessionId);
    await runtime.serialise(() => this.recoverIn(runtime, run));
  }

  /**
   * Several instances: a session whose holder died is taken over (its lease is this instance's
   * now): its active run is followed to its end, then its queue goes on.
   */
  async takeOver(sessionId: string): Promise<void> {
    const runtime = await this.runtimes.acquire(sessionId);
    // Decided in the session's order, so that a `run` arriving meanwhile waits for it.
    const busy = await runtime.serialise(async () => {
      if (runtime.isWorking) return true;
      const [active] = await this.runs.activeOf(sessionId);
      if (active) await this.recoverIn(runtime, active);
      return active !== undefined;
    });
    if (!busy) void this.startNext(sessionId);
  }

  /** Shutdown: every active run writes what streamed and lets go of its stream. */
  async detachAll(): Promise<number> {
    const working = [...this.runtimes.all()].flatMap((runtime) => runtime.activeRun ?? []);
    await Promise.allSettled(working.map((run) => run.detach()));
    return working.length;
  }

  // ---------------------------------------------------------------------------------------------

  private async recoverIn(runtime: SessionRuntime, run: RunRecord): Promise<void> {
    if (runtime.isWorking) return;
    const stored = await this.transcripts.messagesOfRun(run.sessionId, run.id);
    let record = run;
    if (run.userMessageId === null) {
      // Recorded by a version that stored the user message on its own: it may be there.
      const user = stored.find((message) => message.role === 'user');
      const message = user ?? (await this.ledger.attachUserMessage(run));
      record = { ...run, userMessageId: message.id };
    }
    this.launch(runtime, record, { kind: 'recovered', stored });
  }

  private async accept(
    runtime: SessionRuntime,
    request: RunRequest,
    retried = false,
  ): Promise<RunAccepted> {
    await this.runtimes.load(runtime);
    const queued = runtime.queue.length;
    // A resend of a queued run gets through to be answered `duplicate`; nothing else may wait.
    if (queued > 0 && !runtime.queue.some((waiting) => waiting.queueId === request.queueId)) {
      this.caps.checkQueueRoom(request.sessionId, queued);
    }
    const now = Date.now() / 1000;
    const run: NewRun = {
      id: newRunId(),
      sessionId: request.sessionId,
      queueId: request.queueId ?? newQueueId(),
      profile: request.profile,
      input: storedUserContent(request.input),
      model: request.model ?? null,
      instructions: request.instructions ?? null,
    };
    const start = !runtime.isWorking && runtime.queue.length === 0;
    const created = runtime.exists ? null : newSessionRow(request, now);
    const log = created ? this.log.openCreated(request.sessionId) : null;
    let accepted;
    try {
      accepted = await this.ledger.accept({
        run,
        start,
        clientQueueId: request.queueId !== undefined,
        session:
          created && log
            ? { create: created, openLog: log }
            : { createdAt: runtime.facts?.createdAt ?? 0 },
      });
    } catch (error) {
      if (!(error instanceof SessionChangedError) || retried) throw error;
      // Deleted, created again or created elsewhere since it was read: read it again, once.
      await this.runtimes.reload(runtime);
      return this.accept(runtime, request, true);
    }
    if (created && log) {
      log.attach();
      runtime.facts = { ...created, workspace: null };
    }
    if (accepted.duplicate) {
      return { status: 'duplicate', queueId: run.queueId, queueLength: runtime.queue.length };
    }
    const record: RunRecord = {
      ...run,
      status: start ? 'starting' : 'queued',
      upstreamRunId: null,
      userMessageId: accepted.userMessage?.id ?? null,
      createdAt: now,
      startedAt: start ? now : null,
    };
    if (!start) {
      runtime.queue.push(record);
      this.emitter.toSession(run.sessionId, 'run.queued', { queue_length: runtime.queue.length });
      return { status: 'queued', queueId: run.queueId, queueLength: runtime.queue.length };
    }
    if (created && accepted.userMessage) startFresh(runtime, record, accepted.userMessage);
    this.launch(runtime, record, { kind: 'new', fresh: created !== null });
    return { status: 'started', queueId: run.queueId, queueLength: 0 };
  }

  private async dequeue(sessionId: string): Promise<void> {
    // Not here once the session moved: a late retry must not load it again on this instance.
    if (!this.accepting || !this.runtimes.holds(sessionId)) return;
    const runtime = await this.runtimes.acquire(sessionId);
    await runtime.serialise(async () => {
      while (!runtime.isWorking && runtime.queue.length > 0 && runtime.facts) {
        const next = runtime.queue[0];
        let userMessage: StoredUserMessage | null;
        try {
          userMessage = await this.ledger.begin(next, runtime.facts.createdAt);
        } catch (error) {
          if (!(error instanceof SessionChangedError)) throw error;
          await this.runtimes.reload(runtime);
          continue;
        }
        runtime.queue.shift();
        // Null: no longer queued in the store (cancelled meanwhile); the next one, then.
        if (!userMessage) continue;
        this.emitter.toSession(sessionId, 'run.queued', { queue_length: runtime.queue.length });
        const now = Date.now() / 1000;
        const record: RunRecord = {
          ...next,
          status: 'starting',
          userMessageId: userMessage.id,
          startedAt: now,
        };
        this.launch(runtime, record, { kind: 'new', fresh: false });
      }
    });
  }

  /** The run holds its session until it ends; then the next queued run starts. */
  private launch(runtime: SessionRuntime, run: RunRecord, mode: StoredRunMode): void {
    const pipeline = this.pipelines.forSession(runtime, run, mode);
    runtime.activeRun = pipeline;
    runtime.stateEvents = [];
    pipeline
      .run()
      .then((outcome) => {
        if (outcome.kind !== 'detached') void this.startNext(runtime.sessionId);
      })
      .catch(async (error: unknown) => {
        this.logger.error(`Run ${run.id} of ${runtime.sessionId} crashed: ${errorMessage(error)}`);
        if (runtime.activeRun === pipeline) {
          runtime.activeRun = undefined;
          runtime.stateEvents = [];
        }
        this.emitter.toSession(runtime.sessionId, 'run.failed', {
          run_id: pipeline.publicRunId,
          gateway_run_id: run.id,
          error: 'The run failed because of an internal error',
          code: 'internal_error',
          queue_remaining: runtime.queue.length,
          timestamp: Date.now() / 1000,
        });
        // Recorded as failed, so that it neither holds the session nor comes back at restart.
        await this.ledger
          .recordCrashed(run)
          .catch((failure: unknown) =>
            this.logger.error(
              `Recording the crash of run ${run.id} failed: ${errorMessage(failure)}`,
            ),
          );
        void this.startNext(runtime.sessionId);
      });
  }
}

function shuttingDown(): AppError {
  return new AppError(
    'shutting_down',
    'The server is shutting down; send the run again shortly',
    503,
  );
}
