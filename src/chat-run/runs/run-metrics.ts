import { Injectable } from '@nestjs/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { HermesRunEvent } from '../../hermes/hermes-events';
import { MetricsRegistry } from '../../metrics/metrics.registry';
import { SessionRuntimes } from '../runtime/session-runtimes';
import { SessionEmitter } from '../session-emitter';
import type { RunOutcome } from './run-outcome';

/** Seconds: the first token a user waits for, from tens of ms to a slow model's half minute. */
const FIRST_DELTA_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32];
/** Seconds from the upstream's stamp on a delta to its emit here (network + queueing). */
const RELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * The metrics of /chat-run: connections, runs, queues and the stream. Per streamed event only plain increments and one histogram
 * observation happen; totals are read at scrape time.
 */
@Injectable()
export class RunMetrics {
  private events = 0;
  private deltas = 0;
  readonly started: Counter;
  readonly finished: Counter<'outcome' | 'code'>;
  readonly active: Gauge;
  readonly firstDelta: Histogram;
  readonly relayLatency: Histogram;

  constructor(metrics: MetricsRegistry, runtimes: SessionRuntimes, emitter: SessionEmitter) {
    metrics.gaugedBy(
      { name: 'socket_connections', help: 'Clients connected to /chat-run on this instance' },
      () => emitter.connections,
    );
    this.started = metrics.counter({
      name: 'runs_started_total',
      help: 'Runs this instance began or took over (recovered ones included)',
    });
    this.finished = metrics.counter({
      name: 'runs_finished_total',
      help: 'Runs that ended here, by outcome (completed, failed, aborted, detached) and failure code',
      labelNames: ['outcome', 'code'],
    });
    this.active = metrics.gauge({ name: 'runs_active', help: 'Runs in progress here' });
    metrics.gaugedBy(
      { name: 'runs_queued', help: 'Runs waiting in the queues of the sessions held here' },
      () => sum(runtimes.all(), (runtime) => runtime.queue.length),
    );
    metrics.gaugedBy(
      { name: 'sessions_queueing', help: 'Sessions held here with at least one queued run' },
      () => sum(runtimes.all(), (runtime) => (runtime.queue.length > 0 ? 1 : 0)),
    );
    metrics.gaugedBy(
      { name: 'sessions_loaded', help: 'Sessions held in memory (active or recently used)' },
      () => runtimes.size,
    );
    metrics.countedBy(
      { name: 'events_relayed_total', help: 'Upstream run events forwarded to clients' },
      () => [[{}, this.events]],
    );
    metrics.countedBy(
      { name: 'deltas_relayed_total', help: 'message.delta events forwarded to clients' },
      () => [[{}, this.deltas]],
    );
    this.firstDelta = metrics.histogram({
      name: 'first_delta_seconds',
      help: "From a run's start here (history, compression and the upstream's create included) to its first delta",
      buckets: FIRST_DELTA_BUCKETS,
    });
    this.relayLatency = metrics.histogram({
      name: 'relay_latency_seconds',
      help: "From the upstream's timestamp on a delta to its emit here (includes the hosts' clock offset)",
      buckets: RELAY_BUCKETS,
    });
  }

  /** One run's measurements, begun now. */
  meter(): RunMeter {
    this.started.inc();
    this.active.inc();
    return new RunMeter(this);
  }

  /** @internal the meter's counts */
  count(event: HermesRunEvent): void {
    this.events++;
    if (event.type === 'message.delta') this.deltas++;
  }
}

/** What one run reports: started on creation, each forwarded event, its end. */
export class RunMeter {
  private readonly began = performance.now();
  private awaitingFirstDelta = true;
  private open = true;

  constructor(private readonly metrics: RunMetrics) {}

  forwarded(event: HermesRunEvent): void {
    this.metrics.count(event);
    if (event.type !== 'message.delta') return;
    if (this.awaitingFirstDelta) {
      this.awaitingFirstDelta = false;
      this.metrics.firstDelta.observe((performance.now() - this.began) / 1000);
    }
    this.metrics.relayLatency.observe(Math.max(0, Date.now() / 1000 - event.payload.timestamp));
  }

  ended(outcome: RunOutcome): void {
    if (!this.open) return;
    this.open = false;
    this.metrics.active.dec();
    this.metrics.finished.inc({
      outcome: outcome.kind,
      code: outcome.kind === 'failed' ? outcome.code : '',
    });
  }
}

function sum<T>(items: Iterable<T>, value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}
