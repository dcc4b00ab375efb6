import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import type { RunCompletedPayload } from '../../hermes/hermes-events';
import { HERMES_FINAL_RUN_STATES, HermesClient, HermesRunStatus } from '../../hermes/hermes.client';
import type { ActiveRun } from './active-run';
import type { RunOutcome } from './run-outcome';
import { withFinalOutput } from './recovered-transcript';
import { errorMessage } from '../../common/errors/error-message';

/** Longest pause between status polls while the upstream cannot be reached. */
const MAX_BACKOFF_MS = 30_000;

/**
 * A stream that broke is not a lost run: the upstream goes on with it. This follows such a run
 * through `GET /v1/runs/{id}` until it ends, and turns its final status into the run's outcome
 * (completing the transcript with the final output).
 */
@Injectable()
export class RunStatusFollower {
  private readonly logger = new Logger(RunStatusFollower.name);

  constructor(
    private readonly hermes: HermesClient,
    private readonly config: AppConfig,
  ) {}

  /** Polls until the run ends, the upstream forgets it, time runs out or `active` settles. */
  async follow(active: ActiveRun): Promise<RunOutcome> {
    const runId = active.upstreamRunId;
    if (!runId)
      return { kind: 'failed', error: 'The run never started upstream', code: 'interrupted' };
    const { statusPollMs, recoveryTimeoutMs } = this.config.chatRun;
    const deadline = Date.now() + recoveryTimeoutMs;
    let backoff = statusPollMs;
    while (Date.now() < deadline && !active.isSettled) {
      let status: HermesRunStatus | null;
      try {
        status = await this.hermes.getRun(active.run.profile, runId);
        backoff = statusPollMs;
      } catch (error) {
        this.logger.warn(`Status of run ${runId} unavailable: ${errorMessage(error)}`);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      if (status === null) {
        return {
          kind: 'failed',
          error: 'The upstream no longer knows this run; the reply is incomplete',
          code: 'interrupted',
        };
      }
      if (HERMES_FINAL_RUN_STATES.has(status.status)) return this.outcomeOf(active, status);
      await sleep(statusPollMs);
    }
    return {
      kind: 'failed',
      error: 'The run did not finish in time after its stream was lost',
      code: 'stream_lost',
    };
  }

  /** The outcome a final status stands for; a completed run's output completes the transcript. */
  outcomeOf(active: ActiveRun, status: HermesRunStatus): RunOutcome {
    if (status.status === 'completed') {
      const payload: RunCompletedPayload = {
        event: 'run.completed',
        run_id: status.run_id,
        timestamp: status.updated_at ?? Date.now() / 1000,
        ...(typeof status.output === 'string' ? { output: status.output } : {}),
        ...(status.usage ? { usage: status.usage } : {}),
      };
      active.transcript = withFinalOutput(active.transcript, payload);
      return active.aborting ? { kind: 'aborted', synced: true } : { kind: 'completed', payload };
    }
    if (active.aborting) return { kind: 'aborted', synced: true };
    switch (status.status) {
      case 'cancelled':
        return { kind: 'failed', error: 'The run was cancelled upstream', code: 'upstream_error' };
      case 'interrupted':
        return {
          kind: 'failed',
          error: 'The upstream restarted before the run finished',
          code: 'interrupted',
        };
      default:
        return {
          kind: 'failed',
          error: status.error ?? 'The run failed upstream',
          code: 'upstream_error',
        };
    }
  }
}
