export type LifecycleOp = 'open' | 'close';

export interface LifecycleStep {
  op: LifecycleOp;
  promise: Promise<void>;
}

/**
 * The last queued open/close of each session, so they apply in call order: a step starts once
 * the previous step of its session has settled, and is forgotten when it settles itself.
 */
export class LifecycleQueue {
  private readonly steps = new Map<string, LifecycleStep>();

  /** The session's latest step that has not settled yet. */
  last(sessionId: string): LifecycleStep | undefined {
    return this.steps.get(sessionId);
  }

  enqueue(sessionId: string, op: LifecycleOp, run: () => Promise<void>): Promise<void> {
    const previous = this.steps.get(sessionId);
    // The previous step's failure went to its own caller; this one starts from what it left.
    const promise = previous ? previous.promise.then(run, run) : run();
    const step: LifecycleStep = { op, promise };
    this.steps.set(sessionId, step);
    const settled = (): void => {
      if (this.steps.get(sessionId) === step) this.steps.delete(sessionId);
    };
    promise.then(settled, settled);
    return promise;
  }

  /** Resolves once every step queued so far has settled, whatever its outcome. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.steps.values()].map((step) => step.promise));
  }
}
