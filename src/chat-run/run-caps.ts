import { HttpStatus } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';

export interface RunCapSettings {
  maxQueueLength: number;
  maxSessionlessRuns: number;
}

/**
 * How many runs may wait or go on at once: a session's queue is capped (`queue_full`), and so
 * are the session-less runs of the whole server (`too_many_runs`), each of which holds an
 * upstream run and a stream while it lasts.
 */
export class RunCaps {
  private sessionless = 0;

  constructor(private readonly settings: RunCapSettings) {}

  /** No caps (for tests of the queue that are about something else). */
  static unlimited(): RunCaps {
    return new RunCaps({ maxQueueLength: Infinity, maxSessionlessRuns: Infinity });
  }

  /** Throws `queue_full` when a session's queue has no room for one more run. */
  checkQueueRoom(sessionId: string, queueLength: number): void {
    if (queueLength < this.settings.maxQueueLength) return;
    throw new AppError(
      'queue_full',
      `Session '${sessionId}' already has ${queueLength} runs waiting; wait for one to start or cancel one`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }

  /**
   * Takes a slot for a session-less run, or throws `too_many_runs`; the returned function gives
   * it back (once, however often it is called).
   */
  takeSessionlessSlot(): () => void {
    if (this.sessionless >= this.settings.maxSessionlessRuns) {
      throw new AppError(
        'too_many_runs',
        `The server already runs ${this.sessionless} runs without a session; try again shortly`,
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    this.sessionless++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.sessionless--;
    };
  }
}
