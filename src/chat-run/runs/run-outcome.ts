import type { RunCompletedPayload } from '../../hermes/hermes-events';
import {
  HermesConnectionError,
  HermesError,
  HermesHttpError,
  HermesProtocolError,
  HermesStreamLostError,
  HermesTimeoutError,
  UnknownProfileError,
} from '../../hermes/hermes.errors';
import type { RunFailureCode } from '../chat-run.events';

/**
 * How a run ended, whatever told us: its event stream, the status endpoint, an abort, a limit.
 * `detached`: this process let go of it at shutdown; the next start recovers it.
 */
export type RunOutcome =
  | { kind: 'completed'; payload: RunCompletedPayload }
  | { kind: 'failed'; error: string; code: RunFailureCode }
  | { kind: 'aborted'; synced: boolean }
  | { kind: 'detached' };

export type RunFailure = Extract<RunOutcome, { kind: 'failed' }>;

export const failed = (code: RunFailureCode, error: string): RunFailure => ({
  kind: 'failed',
  code,
  error,
});

/**
 * The one error policy of every run, stored or session-less: what went wrong, as the code and
 * reason its `run.failed` carries. Anything unexpected is `internal_error` (and logged by the
 * caller); upstream trouble keeps its upstream's words.
 */
export function failureOf(error: unknown): RunFailure {
  if (error instanceof UnknownProfileError) return failed('unknown_profile', error.message);
  if (error instanceof HermesHttpError) {
    const unavailable = error.status === 429 || error.status === 503;
    return failed(
      unavailable ? 'upstream_unavailable' : 'upstream_error',
      `Upstream ${error.status}: ${error.body}`,
    );
  }
  if (error instanceof HermesProtocolError) return failed('protocol_error', error.message);
  if (error instanceof HermesConnectionError || error instanceof HermesTimeoutError) {
    return failed('upstream_unavailable', error.message);
  }
  if (error instanceof HermesStreamLostError) return failed('stream_lost', error.message);
  if (error instanceof HermesError) return failed('upstream_error', error.message);
  return failed('internal_error', 'The run failed because of an internal error');
}
