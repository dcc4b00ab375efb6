import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../../common/errors/error-message';
import { AppConfig } from '../../config/app-config';
import { HERMES_FINAL_RUN_STATES, HermesClient, HermesRunStatus } from '../../hermes/hermes.client';
import {
  HermesConnectionError,
  HermesHttpError,
  HermesTimeoutError,
} from '../../hermes/hermes.errors';

/** Longest pause between status polls while the upstream cannot be reached. */
const MAX_BACKOFF_MS = 30_000;

/** What following a run's status found. */
export type FollowedStatus =
  /** The run reached a final state. */
  | { kind: 'final'; status: HermesRunStatus }
  /** The upstream answered 404: it no longer knows the run. */
  | { kind: 'unknown' }
  /** The upstream could not be reached at all for `UPSTREAM_UNAVAILABLE_MS`. */
  | { kind: 'unreachable'; reason: string }
  /** Still not finished after `RUN_RECOVERY_TIMEOUT_MS`. */
  | { kind: 'timeout' }
  /** The caller stopped waiting (its run ended some other way). */
  | { kind: 'stopped' };

/**
 * A stream that broke is not a lost run: the upstream goes on with it. This polls such a run
 * through `GET /v1/runs/{id}` until it reaches a final state, the upstream forgets it, the
 * upstream stays unreachable too long, or time runs out. What the result means for the run is
 * the caller's decision.
 */
@Injectable()
export class RunStatusFollower {
  private readonly logger = new Logger(RunStatusFollower.name);

  constructor(
    private readonly hermes: HermesClient,
    private readonly config: AppConfig,
  ) {}

  async follow(profile: string, runId: string, stopped: () => boolean): Promise<FollowedStatus> {
    const { statusPollMs, recoveryTimeoutMs, upstreamUnavailableMs } = this.config.chatRun;
    const deadline = Date.now() + recoveryTimeoutMs;
    let unreachableSince: number | undefined;
    let backoff = statusPollMs;
    while (Date.now() < deadline) {
      if (stopped()) return { kind: 'stopped' };
      let status: HermesRunStatus | null;
      try {
        status = await this.hermes.getRun(profile, runId);
        unreachableSince = undefined;
        backoff = statusPollMs;
      } catch (error) {
        if (!isUnreachable(error)) throw error;
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince >= upstreamUnavailableMs) {
          return { kind: 'unreachable', reason: errorMessage(error) };
        }
        this.logger.warn(`Status of run ${runId} unavailable: ${errorMessage(error)}`);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS, upstreamUnavailableMs);
        continue;
      }
      if (status === null) return { kind: 'unknown' };
      if (HERMES_FINAL_RUN_STATES.has(status.status)) return { kind: 'final', status };
      await sleep(statusPollMs);
    }
    return { kind: 'timeout' };
  }
}

/** Failures that say nothing about the run, only that its upstream cannot answer now. */
function isUnreachable(error: unknown): boolean {
  return (
    error instanceof HermesConnectionError ||
    error instanceof HermesTimeoutError ||
    (error instanceof HermesHttpError && error.status >= 500)
  );
}
