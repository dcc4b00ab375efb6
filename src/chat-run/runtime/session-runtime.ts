import { HistoryWindow } from '../../compression/history-window';
import type { SessionFacts } from '../../sessions/transcript.store';
import type { RunStateEvent } from '../chat-run.events';
import type { RunPipeline } from '../runs/run-pipeline';
import type { RunRecord } from '../runs/run.store';

/** A queued run as the session's queue shows it (`resumed.queue`). */
export type QueuedRun = RunRecord;

/**
 * What the server holds in memory for a session while somebody uses it: what it knows of the
 * session row, its queue, its active run, the run's state events for resuming clients, and the
 * history window. Everything here is loaded from the store (or rebuilt from it), so an idle
 * session is simply dropped.
 */
export type RuntimeFacts = Pick<SessionFacts, 'id' | 'profile' | 'workspace' | 'createdAt'>;

export class SessionRuntime {
  /**
   * What the run path needs of the session row (`null`: no such session yet; a `run` creates
   * it). Valid once `loaded` has resolved. Counters are not kept here: they change with every run
   * and are read from the store where needed.
   */
  facts: RuntimeFacts | null = null;
  /** The first load, shared by everyone who needs the runtime (see `SessionRuntimes.load`). */
  loaded: Promise<void> | undefined;
  /** The session's queued runs in FIFO order, as stored. */
  queue: QueuedRun[] = [];
  /**
   * The run in progress: set by the queue when it launches one, cleared when the run releases
   * the session (its recorder) or crashes (the queue).
   */
  activeRun: RunPipeline | undefined;
  /** compression/abort events of the active run, as `resumed.events` shows them. */
  stateEvents: RunStateEvent[] = [];
  /** What the last run read of the history, so the next one reads only what came since. */
  readonly history = new HistoryWindow();
  lastUsed = Date.now();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly sessionId: string) {}

  get exists(): boolean {
    return this.facts !== null;
  }

  get isWorking(): boolean {
    return this.activeRun !== undefined;
  }

  get isAborting(): boolean {
    return this.activeRun?.isAborting ?? false;
  }

  /** Records a state event, replacing an earlier one of the same name: a resuming client sees the latest of each. */
  setStateEvent(state: RunStateEvent): void {
    const index = this.stateEvents.findIndex((existing) => existing.event === state.event);
    if (index >= 0) this.stateEvents[index] = state;
    else this.stateEvents.push(state);
  }

  /**
   * Runs `task` after every earlier task of this session: queue decisions (start or enqueue,
   * dequeue, cancel) are made one at a time per session, while sessions proceed in parallel.
   */
  serialise<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  touch(): void {
    this.lastUsed = Date.now();
  }
}
