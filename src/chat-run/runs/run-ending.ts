import {
  completionAnnotations,
  foldEvent,
  type RunTranscript,
} from '../transcript/transcript.reducer';
import type { RunAudience } from './run-audience';
import type { SettledOutcome } from './run-recorder';

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
        // Counts the run about to start, as clients written for the reference expect.
        ...(queued > 0 ? { queue_length: queued } : {}),
      });
  }
}
