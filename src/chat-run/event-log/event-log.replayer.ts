import type { Logger } from '@nestjs/common';
import type { EventLogStore } from './event-log.store';
import { assembleReplay, incompleteReplay, LoggedEvent, ReplayResult } from './logged-event';
import type { SessionLog } from './session-log';
import { errorMessage } from '../../common/errors/error-message';

/**
 * Replay of one open log: the stored batches (only when memory does not reach back far enough)
 * merged with what is being written and what is buffered. See `EventLog.replay` for the contract.
 */
export class EventLogReplayer {
  constructor(
    private readonly store: EventLogStore,
    private readonly logger: Logger,
  ) {}

  /**
   * `current` returns the session's open log after the read: it may have been closed and
   * reopened meanwhile, and then the reopened one holds the newest events.
   */
  async replay(
    log: SessionLog,
    afterSeq: number,
    current: () => SessionLog | undefined,
    deliver?: (result: ReplayResult) => void,
  ): Promise<ReplayResult> {
    const { sessionId } = log;
    const committedMeanwhile: LoggedEvent[][] = [];
    let stored: LoggedEvent[] = [];
    let readFailed = false;
    if (needsStored(log, afterSeq)) {
      // A batch that commits after this point is handed to us; one committed before is read.
      log.watchers.add(committedMeanwhile);
      try {
        stored = await this.store.loadAfter(sessionId, afterSeq);
      } catch (error) {
        readFailed = true;
        this.logger.warn(
          `Replay of session ${sessionId} could not read the log: ${errorMessage(error)}`,
        );
      } finally {
        log.watchers.delete(committedMeanwhile);
      }
    }
    // Final synchronous step: memory buffers are read here, after the last await.
    const latest = current() ?? log;
    const result = readFailed
      ? incompleteReplay()
      : assembleReplay(afterSeq, latest.nextSeq - 1, latest.floor, [
          stored,
          ...committedMeanwhile,
          latest.inFlight ?? [],
          latest.pending,
        ]);
    deliver?.(result);
    return result;
  }
}

/** Whether the replay needs the database: memory does not hold every event after `afterSeq`. */
function needsStored(log: SessionLog, afterSeq: number): boolean {
  if (!Number.isSafeInteger(afterSeq) || afterSeq < log.floor || afterSeq >= log.nextSeq - 1) {
    return false;
  }
  const oldestInMemory = log.inFlight?.[0]?.seq ?? log.pending[0]?.seq;
  return oldestInMemory === undefined || oldestInMemory > afterSeq + 1;
}
