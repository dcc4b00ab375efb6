import { Injectable } from '@nestjs/common';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { GroupCommit } from './sql/group-commit';

/** Seconds per write transaction: a local SQLite commit takes ~1 ms, a remote one tens. */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The run path's database writes: every group commit's duration, size and result. */
@Injectable()
export class DatabaseMetrics {
  constructor(metrics: MetricsRegistry, commit: GroupCommit) {
    const duration = metrics.histogram<'result'>({
      name: 'db_commit_seconds',
      help: 'Duration of each write transaction of the run path (one batch of writes), by result',
      labelNames: ['result'],
      buckets: COMMIT_BUCKETS,
    });
    const jobs = metrics.counter({
      name: 'db_writes_total',
      help: 'Writes of the run path committed in those transactions (several per transaction)',
    });
    commit.onCommit(({ seconds, ok, jobs: count }) => {
      duration.observe({ result: ok ? 'ok' : 'failed' }, seconds);
      if (ok) jobs.inc(count);
    });
  }
}
