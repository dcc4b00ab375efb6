import type { AckFailure } from './chat-run.events';
import type { ChatSocket, SessionEmitter } from './session-emitter';

/** Longest `request` name echoed in `request.error` (an unknown event may have any name). */
const REQUEST_NAME_MAX = 64;

/**
 * How a refused client request is answered, wherever it was refused (its handler, the rate
 * limit): through the ack callback when the client gave one, else with `request.error` to that
 * socket only, carrying the request's `session_id` when it named one.
 */
export function answerRefusal(
  emitter: SessionEmitter,
  socket: ChatSocket,
  refused: { request: string; body: unknown; ack: ((reply: AckFailure) => void) | undefined },
  error: AckFailure['error'],
): void {
  if (refused.ack) return refused.ack({ ok: false, error });
  const request = refused.request.slice(0, REQUEST_NAME_MAX);
  emitter.toSocket(socket, 'request.error', { request, ...error }, sessionIdOf(refused.body));
}

function sessionIdOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const id = (body as { session_id?: unknown }).session_id;
  return typeof id === 'string' && id.length <= 128 ? id : undefined;
}
