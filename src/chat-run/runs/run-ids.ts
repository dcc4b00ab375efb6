import { randomBytes } from 'node:crypto';

let lastIdTime = 0;
let idCounter = 0;

/**
 * A gateway run id. Ids sort in creation order (time, then a per-process counter), so that
 * queued runs created in the same millisecond still start in the order they were sent.
 */
export function newRunId(): string {
  const now = Date.now();
  idCounter = now === lastIdTime ? idCounter + 1 : 0;
  lastIdTime = now;
  const time = now.toString(36).padStart(9, '0');
  const counter = idCounter.toString(36).padStart(4, '0');
  return `gw_${time}${counter}${randomBytes(6).toString('hex')}`;
}

/** The `queue_id` of a run whose client sent none. */
export function newQueueId(): string {
  return `queue_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}
