/**
 * The gateway's stable error codes, shared by its REST answers (`{ statusCode, code, message }`)
 * and its socket answers (`{ ok: false, error: { code, message } }` or `request.error`). Clients
 * branch on `code`, never on `message`. The server's `AppError` takes its codes from here, so a
 * code cannot be added to one side only.
 */
export type ErrorCode =
  | 'invalid_payload'
  | 'invalid_cursor'
  | 'input_too_large'
  | 'unauthorized'
  | 'not_found'
  | 'unknown_session'
  | 'unknown_profile'
  | 'session_exists'
  | 'shutting_down'
  | 'session_moved'
  | 'session_unavailable'
  | 'no_active_run'
  | 'no_pending_approval'
  | 'conflict'
  | 'payload_too_large'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'queue_full'
  | 'too_many_runs'
  | 'unhealthy'
  | 'http_error'
  | 'internal_error';

/** Why a run ended in `run.failed` (its `code`). */
export type RunFailureCode =
  | 'upstream_error'
  | 'upstream_unavailable'
  | 'protocol_error'
  | 'stream_lost'
  | 'interrupted'
  | 'storage_error'
  | 'run_timeout'
  | 'unknown_profile'
  | 'internal_error';
