import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../../common/errors/error-message';
import { CompressionService } from '../../compression/compression.service';
import type { RunCompletedPayload } from '../../hermes/hermes-events';
import { EphemeralSessionCleanup } from '../../hermes/home/ephemeral-session-cleanup';
import { UsageStore } from '../../usage/usage.store';
import { EventLog } from '../event-log/event-log.service';
import type { SessionRuntime } from '../runtime/session-runtime';
import { SessionEmitter } from '../session-emitter';
import { completionAnnotations } from '../transcript/transcript.reducer';
import type { ActiveRun } from './active-run';
import { upstreamSessionOf, type RunEntity } from './run.entity';
import type { RunOutcome } from './run-outcome';
import { RunStore } from './run.store';

const FINAL_WRITE_ATTEMPTS = 3;
const FINAL_WRITE_BACKOFF_MS = 200;

/**
 * The end of every run, however it settled: the final transcript write (retried), the run
 * record, usage and the context estimate, the cleanup of its upstream session, and the one
 * terminal event, which goes out last.
 */
@Injectable()
export class RunFinisher {
  private readonly logger = new Logger(RunFinisher.name);

  constructor(
    private readonly runs: RunStore,
    private readonly emitter: SessionEmitter,
    private readonly log: EventLog,
    private readonly compression: CompressionService,
    private readonly usage: UsageStore,
    private readonly cleanup: EphemeralSessionCleanup,
  ) {}

  /**
   * Stores the final transcript and run record, then tells the room how the run ended. The
   * terminal event goes out only once the transcript is stored; when storing keeps failing the
   * run record stays active (a restart recovers it) and the room gets `run.failed`.
   */
  async finish(runtime: SessionRuntime, active: ActiveRun): Promise<RunOutcome> {
    let outcome = await active.outcome;
    if (outcome.kind === 'detached') return outcome;
    const { run } = active;
    active.closeDrafts(outcome);
    const stored = await this.storeFinal(active);
    if (stored) {
      await this.runs
        .end(run.id, endOf(outcome))
        .catch((error: unknown) =>
          this.logger.error(`Recording the end of run ${run.id} failed: ${errorMessage(error)}`),
        );
      if (outcome.kind === 'completed') await this.recordUsage(run, outcome.payload);
      await this.announceEstimate(active);
      // Its ephemeral upstream session is of no use once the run is stored.
      if (active.upstreamRunId) this.cleanup.forget(run.profile, upstreamSessionOf(run));
    } else {
      outcome = { kind: 'failed', error: 'The reply could not be stored', code: 'storage_error' };
      // Its stored messages may be stale: the next run reads the history afresh.
      runtime.history.reset();
    }
    runtime.activeRun = undefined;
    runtime.stateEvents = [];
    runtime.touch();
    this.announce(active, outcome, await this.runs.countQueued(run.sessionId).catch(() => 0));
    this.logger.log(`Run ${run.id} of ${run.sessionId} ended: ${outcome.kind}`);
    // Between runs the log keeps a bounded window of recent events.
    await this.log.trim(run.sessionId);
    return outcome;
  }

  private async storeFinal(active: ActiveRun): Promise<boolean> {
    for (let attempt = 1; attempt <= FINAL_WRITE_ATTEMPTS; attempt++) {
      try {
        await active.close();
        return true;
      } catch (error) {
        this.logger.error(
          `Final write of run ${active.run.id} failed (attempt ${attempt}): ${errorMessage(error)}`,
        );
        await sleep(FINAL_WRITE_BACKOFF_MS * attempt);
      }
    }
    return false;
  }

  /** The run's last event, to its room. */
  private announce(active: ActiveRun, outcome: RunOutcome, queued: number): void {
    const { sessionId } = active.run;
    const runId = active.publicRunId;
    switch (outcome.kind) {
      case 'completed':
        this.emitter.toSession(sessionId, 'run.completed', {
          ...outcome.payload,
          ...completionAnnotations(active.transcript, outcome.payload),
          run_id: runId,
          queue_remaining: queued,
        });
        break;
      case 'failed':
        this.emitter.toSession(sessionId, 'run.failed', {
          run_id: runId,
          error: outcome.error,
          code: outcome.code,
          queue_remaining: queued,
        });
        break;
      case 'aborted':
        this.emitter.toSession(sessionId, 'abort.completed', {
          run_id: active.abortedAs ?? runId,
          synced: outcome.synced,
          // Counts the run about to start, as the reference's clients expect.
          ...(queued > 0 ? { queue_length: queued } : {}),
        });
        break;
    }
  }

  private async recordUsage(run: RunEntity, payload: RunCompletedPayload): Promise<void> {
    if (!payload.usage) return;
    await this.usage
      .record({
        sessionId: run.sessionId,
        runId: run.id,
        kind: 'run',
        profile: run.profile,
        model: run.model,
        usage: payload.usage,
      })
      .catch((error: unknown) =>
        this.logger.warn(`Recording usage failed: ${errorMessage(error)}`),
      );
  }

  /** `usage.updated` once the run's messages are stored (before its terminal event). */
  private async announceEstimate(active: ActiveRun): Promise<void> {
    const { sessionId, userMessageId } = active.run;
    const prepared = active.preparedEstimate;
    try {
      const estimate = await this.compression.refreshEstimate(
        sessionId,
        prepared && userMessageId !== null ? { estimate: prepared, userMessageId } : undefined,
      );
      this.emitter.toSession(sessionId, 'usage.updated', estimate);
    } catch (error) {
      this.logger.warn(
        `Updating the context estimate of ${sessionId} failed: ${errorMessage(error)}`,
      );
    }
  }
}

function endOf(outcome: Exclude<RunOutcome, { kind: 'detached' }>): Parameters<RunStore['end']>[1] {
  switch (outcome.kind) {
    case 'completed':
      return { status: 'completed' };
    case 'aborted':
      return { status: 'cancelled', errorCode: 'aborted' };
    case 'failed':
      return {
        status: outcome.code === 'interrupted' ? 'interrupted' : 'failed',
        error: outcome.error,
        errorCode: outcome.code,
      };
  }
}
