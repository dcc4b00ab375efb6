import { AppError } from '../common/errors/app-error';
import { RunCaps } from './run-caps';

describe('RunCaps', () => {
  it('refuses a run when the queue is full, with queue_full', () => {
    const limits = new RunCaps({ maxQueueLength: 2, maxSessionlessRuns: 1 });
    expect(() => limits.checkQueueRoom('s', 1)).not.toThrow();
    expect(() => limits.checkQueueRoom('s', 2)).toThrow(
      expect.objectContaining({ code: 'queue_full' }) as AppError,
    );
  });

  it('hands out session-less slots up to the cap and takes each back once', () => {
    const limits = new RunCaps({ maxQueueLength: 2, maxSessionlessRuns: 2 });
    const first = limits.takeSessionlessSlot();
    limits.takeSessionlessSlot();
    expect(() => limits.takeSessionlessSlot()).toThrow(
      expect.objectContaining({ code: 'too_many_runs' }) as AppError,
    );
    first();
    first();
    limits.takeSessionlessSlot();
    expect(() => limits.takeSessionlessSlot()).toThrow(AppError);
  });

  it('has no caps when unlimited', () => {
    const limits = RunCaps.unlimited();
    expect(() => limits.checkQueueRoom('s', 10_000)).not.toThrow();
    for (let i = 0; i < 1000; i++) limits.takeSessionlessSlot();
  });
});
