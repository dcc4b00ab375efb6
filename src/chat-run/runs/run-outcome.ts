import type { RunCompletedPayload } from '../../hermes/hermes-events';
import type { RunFailureCode } from '../chat-run.events';

/**
 * How a run ended, whatever told us: its event stream, the status endpoint or an abort.
 * `detached`: this process let go of it at shutdown; the next start recovers it.
 */
export type RunOutcome =
  | { kind: 'completed'; payload: RunCompletedPayload }
  | { kind: 'failed'; error: string; code: RunFailureCode }
  | { kind: 'aborted'; synced: boolean }
  | { kind: 'detached' };
