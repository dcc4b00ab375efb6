import { HistoryWindow } from '../../compression/history-window';
import type { RunStateEvent } from '../chat-run.events';
import type { ActiveRun } from '../runs/active-run';

/**
 * What the server holds in memory for a session while somebody uses it: its active run, the
 * run's state events for resuming clients and the history window. Everything here can be rebuilt from the store, so an
 * idle session is simply dropped.
 */
export class SessionRuntime {
  activeRun: ActiveRun | undefined;
  /** compression/abort events of the active run, as `resumed.events` shows them. */
  stateEvents: RunStateEvent[] = [];
  /** What the last run read of the history, so the next one reads only what came since. */
  readonly history = new HistoryWindow();
  lastUsed = Date.now();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly sessionId: string) {}

  get isWorking(): boolean {
    return this.activeRun !== undefined;
  }

  get isAborting(): boolean {
    return this.activeRun?.aborting ?? false;
  }

  /** Records a state event, replacing an earlier one of the same name (as the reference did). */
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
