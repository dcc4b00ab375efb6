import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppError } from '../../common/errors/app-error';
import { makePreview } from '../../sessions/session.mapper';
import { SessionRepository } from '../../sessions/session.repository';
import { SessionEmitter } from '../session-emitter';
import { SessionRuntime } from '../runtime/session-runtime';
import { SessionRuntimes } from '../runtime/session-runtimes';
import { previewText, storedUserContent, type ContentBlock } from '../../content/content-blocks';
import { RunExecutor } from './run-executor';
import type { RunEntity } from './run.entity';
import { RunStore } from './run.store';

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

let lastIdTime = 0;
let idCounter = 0;

/**
 * Run ids sort in creation order (time, then a per-process counter), so that queued runs created
 * in the same millisecond still start in the order they were sent.
 */
function newRunId(): string {
  const now = Date.now();
  idCounter = now === lastIdTime ? idCounter + 1 : 0;
  lastIdTime = now;
  const time = now.toString(36).padStart(9, '0');
  const counter = idCounter.toString(36).padStart(4, '0');
  return `gw_${time}${counter}${randomBytes(6).toString('hex')}`;
}

/**
 * Per-session FIFO of runs: one active run per session, sessions in parallel. The queue lives in
 * the `runs` table, so it survives restarts; decisions for one session are serialised through
 * its runtime.
 */
@Injectable()
export class RunQueueService {
  private readonly logger = new Logger(RunQueueService.name);
  private accepting = true;

  constructor(
    private readonly runs: RunStore,
    private readonly sessions: SessionRepository,
    private readonly runtimes: SessionRuntimes,
    private readonly executor: RunExecutor,
    private readonly emitter: SessionEmitter,
  ) {}

  /** Refuses new runs from now on (shutdown). */
  stopAccepting(): void {
    this.accepting = false;
  }

  async submit(request: RunRequest): Promise<RunAccepted> {
    if (!this.accepting) {
      throw new AppError(
        'shutting_down',
        'The server is shutting down; send the run again shortly',
        503,
      );
    }
    const runtime = this.runtimes.get(request.sessionId);
    return runtime.serialise(async () => {
      // The session exists before its event log is opened: the log hangs off the session row.
      await this.ensureSession(request);
      await this.runtimes.acquire(request.sessionId);
      const queueId =
        request.queueId ?? `queue_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
      if (request.queueId) {
        const existing = await this.runs.findByQueueId(request.sessionId, request.queueId);
        if (existing) {
          return {
            status: 'duplicate',
            queueId,
            queueLength: await this.runs.countQueued(request.sessionId),
          };
        }
      }
      const newRun = {
        id: newRunId(),
        sessionId: request.sessionId,
        queueId,
        profile: request.profile,
        input: storedUserContent(request.input),
        model: request.model ?? null,
        instructions: request.instructions ?? null,
      };
      if (runtime.isWorking || (await this.runs.countQueued(request.sessionId)) > 0) {
        await this.runs.insert(newRun, 'queued');
        const queueLength = await this.runs.countQueued(request.sessionId);
        this.emitter.toSession(request.sessionId, 'run.queued', { queue_length: queueLength });
        return { status: 'queued', queueId, queueLength };
      }
      const run = await this.runs.insert(newRun, 'starting');
      this.launch(runtime, run);
      return { status: 'started', queueId, queueLength: 0 };
    });
  }

  async cancel(
    sessionId: string,
    queueId: string,
  ): Promise<{ removed: boolean; queueLength: number }> {
    if (!(await this.sessions.findById(sessionId))) throw AppError.unknownSession(sessionId);
    const runtime = await this.runtimes.acquire(sessionId);
    return runtime.serialise(async () => {
      const removed = await this.runs.cancelQueued(sessionId, queueId);
      const queueLength = await this.runs.countQueued(sessionId);
      if (removed) this.emitter.toSession(sessionId, 'run.queued', { queue_length: queueLength });
      return { removed, queueLength };
    });
  }

  /**
   * Starts the next queued run of a session that has none active (after a run, or at startup).
   * Never rejects: a database hiccup is logged and retried with backoff, so a queue never stalls.
   */
  async startNext(sessionId: string, attempt = 1): Promise<void> {
    try {
      await this.dequeueAndStart(sessionId);
    } catch (error) {
      const delay = Math.min(HANDOVER_RETRY_MS * 2 ** (attempt - 1), HANDOVER_MAX_RETRY_MS);
      this.logger.error(
        `Starting the next run of ${sessionId} failed (${String(error)}); retrying in ${delay} ms`,
      );
      setTimeout(() => void this.startNext(sessionId, attempt + 1), delay).unref();
    }
  }

  private async dequeueAndStart(sessionId: string): Promise<void> {
    if (!this.accepting) return;
    const runtime = await this.runtimes.acquire(sessionId);
    await runtime.serialise(async () => {
      if (runtime.isWorking) return;
      const next = await this.runs.dequeue(sessionId);
      if (!next) return;
      this.emitter.toSession(sessionId, 'run.queued', {
        queue_length: await this.runs.countQueued(sessionId),
      });
      this.launch(runtime, next);
    });
  }

  /** Follows a run recorded as active by a previous process. */
  resume(runtime: SessionRuntime, run: RunEntity): void {
    this.track(runtime, this.executor.recover(runtime, run));
  }

  private launch(runtime: SessionRuntime, run: RunEntity): void {
    this.track(runtime, this.executor.execute(runtime, run));
  }

  /** A run that ended, however it ended, hands over to the next queued one. */
  private track(runtime: SessionRuntime, done: Promise<unknown>): void {
    done
      .catch((error: unknown) =>
        this.logger.error(`Run of ${runtime.sessionId} crashed: ${String(error)}`),
      )
      .finally(() => void this.startNext(runtime.sessionId));
  }

  private async ensureSession(request: RunRequest): Promise<void> {
    if (await this.sessions.findById(request.sessionId)) return;
    const title = makePreview(previewText(request.input)) || null;
    try {
      await this.sessions.create({
        id: request.sessionId,
        profile: request.profile,
        model: request.model ?? null,
        title,
      });
    } catch (error) {
      // Created concurrently by a REST call: that is fine.
      if (!(error instanceof AppError && error.code === 'session_exists')) throw error;
    }
  }
}
