import { Subject } from 'rxjs';

/**
 * The first of several competing answers wins: a run can end by its stream, by an abort's grace
 * running out, by a limit or by shutdown, whichever comes first. Later offers are ignored.
 */
export class Settlement<T> {
  readonly value: Promise<T>;
  /** Emits once, when the value is settled (for `takeUntil`). */
  readonly settled$ = new Subject<void>();
  private resolve!: (value: T) => void;
  private done = false;

  constructor() {
    this.value = new Promise<T>((resolve) => (this.resolve = resolve));
  }

  get isSettled(): boolean {
    return this.done;
  }

  /** Settles with `value` unless something already did; true when this call did. */
  offer(value: T): boolean {
    if (this.done) return false;
    this.done = true;
    this.resolve(value);
    this.settled$.next();
    this.settled$.complete();
    return true;
  }
}
