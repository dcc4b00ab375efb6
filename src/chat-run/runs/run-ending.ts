import type { LoggerService } from '@nestjs/common';
import { LeaseLostError } from '../../cluster/session-leases';
import { errorMessage } from '../../common/errors/error-message';
import {
  completionAnnotations,
  foldEvent,
  type RunTranscript,
} from '../transcript/transcript.reducer';
import type { RunAudience } from './run-audience';
import { failed, type RunOutcome } from './run-outcome';
import type { RunRecorder, SettledOutcome } from './run-recorder';

/**
 * Closes drafts the upstream never closed (an abort past its grace, a lost run, a limit): they
 * end as cancelled or failed, with their partial text.
 */
export function closeDrafts(transcript: RunTranscript, outcome: SettledOutcome): RunTranscript {
  if (transcript.status !== 'running' || outcome.kind === 'completed') return transcript;
  const base = { run_id: transcript.runId, timestamp: Date.now() / 1000 };
  return foldEvent(
    transcript,
    outcome.kind === 'aborted'
      ? { type: 'run.cancelled', payload: { ...base, event: 'run.cancelled' } }
      : { type: 'run.failed', payload: { ...base, event: 'run.failed', error: outcome.error } },
  );
}

export interface Ending {
  /** The id clients know the run by. */
  runId: string;
  /** The gateway's id of the run (its messages' `run_id` over REST). */
  gatewayRunId: string;
  /** The id `abort.started` named, when the run was aborted. */
  abortedAs: string | null;
  /** Runs still queued in the session. */
  queued: number;
}

/** A run's last event. */
export function announceEnd(
  audience: RunAudience,
  transcript: RunTranscript,
  outcome: SettledOutcome,
  { runId, gatewayRunId, abortedAs, queued }: Ending,
): void {
  switch (outcome.kind) {
    case 'completed':
      return audience.emit('run.completed', {
        ...outcome.payload,
        ...completionAnnotations(transcript, outcome.payload),
        run_id: runId,
        gateway_run_id: gatewayRunId,
        queue_remaining: queued,
      });
    case 'failed':
      return audience.emit('run.failed', {
        run_id: runId,
        gateway_run_id: gatewayRunId,
        error: outcome.error,
        code: outcome.code,
        queue_remaining: queued,
        // Unix seconds, as the upstream's own run.failed carries (clients read it).
        timestamp: Date.now() / 1000,
      });
    case 'aborted':
      return audience.emit('abort.completed', {
        run_id: abortedAs ?? runId,
        gateway_run_id: gatewayRunId,
        synced: outcome.synced,
        // Counts the run about to start: hermes-studio's client shows it as the queue's length.
        ...(queued > 0 ? { queue_length: queued } : {}),
      });
  }
}

/** A settled run about to end, and where its end goes. */
export interface EndingRun {
  recorder: RunRecorder;
  audience: RunAudience;
  logger: Pick<LoggerService, 'log' | 'warn' | 'error'>;
  /** Its drafts closed. */
  transcript: RunTranscript;
  runId: string;
  gatewayRunId: string;
  abortedAs: string | null;
}

/**
 * The end of a run: stored in one write, the session released, the terminal event last. While
 * the database is away the terminal event waits (see the recorder) and is then sent as
 * `storage_error`, the write going on; the session is released only once it is stored, so the
 * queue never starts on a run whose end is not written. Ends `detached`, announcing nothing,
 * when another instance took the session over (it announces the end) or at shutdown (the next
 * start recovers the run).
 */
export async function endRun(run: EndingRun, outcome: SettledOutcome): Promise<RunOutcome> {
  const { recorder, audience, logger, transcript, gatewayRunId } = run;
  let announced: SettledOutcome | null = null;
  const announce = (final: SettledOutcome): void => {
    announced = final;
    announceEnd(audience, transcript, final, { ...run, queued: recorder.queueLength() });
  };
  let estimate;
  try {
    estimate = await recorder.settle(transcript, outcome, () => {
      if (!announced) announce(failed('storage_error', 'The reply could not be stored yet'));
    });
  } catch (error) {
    logger.warn(
      error instanceof LeaseLostError
        ? `Run ${gatewayRunId} is followed by another instance now`
        : `The end of run ${gatewayRunId} is not stored: ${errorMessage(error)}`,
    );
    recorder.release();
    return { kind: 'detached' };
  }
  recorder.release();
  if (estimate) audience.emit('usage.updated', estimate);
  const final: SettledOutcome = announced ?? outcome;
  if (final === outcome) announce(outcome);
  logger.log(`Run ${gatewayRunId} ended: ${final.kind}`);
  recorder.after(final);
  return final;
}
