import type { HermesTerminalEvent, RunCompletedPayload } from '../../hermes/hermes-events';
import type { HermesRunStatus } from '../../hermes/hermes.client';
import type { RunTranscript } from '../transcript/transcript.reducer';
import { withFinalOutput } from './recovered-transcript';
import { failed, type RunOutcome } from './run-outcome';
import type { FollowedStatus } from './run-status-follower';

/**
 * What the upstream said about a run, as the run's outcome: its terminal event, or its status
 * endpoint's answer once the stream was lost. While the run is being aborted, whatever the
 * upstream reports ends it as aborted (clients hear `abort.completed`, not the upstream's end).
 */
export interface Verdict {
  outcome: RunOutcome;
  /** The transcript, completed by a final status's output when the stream missed it. */
  transcript: RunTranscript;
}

export function outcomeOfTerminalEvent(event: HermesTerminalEvent, aborting: boolean): RunOutcome {
  if (aborting) return { kind: 'aborted', synced: true };
  switch (event.type) {
    case 'run.completed':
      return { kind: 'completed', payload: event.payload };
    case 'run.failed':
      return failed('upstream_error', event.payload.error);
    default:
      return failed('upstream_error', 'The run was cancelled upstream');
  }
}

/** The answer of {@link RunStatusFollower}. */
export function verdictOfFollowed(
  found: FollowedStatus,
  aborting: boolean,
  transcript: RunTranscript,
): Verdict {
  const only = (outcome: RunOutcome): Verdict => ({ outcome, transcript });
  switch (found.kind) {
    case 'final':
      return verdictOfStatus(found.status, aborting, transcript);
    case 'unknown':
      return only(
        failed('interrupted', 'The upstream no longer knows this run; the reply is incomplete'),
      );
    case 'unreachable':
      return only(
        failed('upstream_unavailable', `The upstream cannot be reached: ${found.reason}`),
      );
    case 'timeout':
      return only(
        failed('stream_lost', 'The run did not finish in time after its stream was lost'),
      );
    case 'stopped':
      return only({ kind: 'detached' });
  }
}

/** A final status; a completed run's output completes the transcript. */
export function verdictOfStatus(
  status: HermesRunStatus,
  aborting: boolean,
  transcript: RunTranscript,
): Verdict {
  if (status.status === 'completed') {
    const payload: RunCompletedPayload = {
      event: 'run.completed',
      run_id: status.run_id,
      timestamp: status.updated_at ?? Date.now() / 1000,
      ...(typeof status.output === 'string' ? { output: status.output } : {}),
      ...(status.usage ? { usage: status.usage } : {}),
    };
    return {
      outcome: aborting ? { kind: 'aborted', synced: true } : { kind: 'completed', payload },
      transcript: withFinalOutput(transcript, payload),
    };
  }
  const only = (outcome: RunOutcome): Verdict => ({ outcome, transcript });
  if (aborting) return only({ kind: 'aborted', synced: true });
  switch (status.status) {
    case 'cancelled':
      return only(failed('upstream_error', 'The run was cancelled upstream'));
    case 'interrupted':
      return only(failed('interrupted', 'The upstream restarted before the run finished'));
    default:
      return only(failed('upstream_error', status.error ?? 'The run failed upstream'));
  }
}
