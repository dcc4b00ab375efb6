import { Injectable } from '@nestjs/common';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';

/** Every metric of the gateway's own starts with it (Node's process metrics keep their names). */
export const METRIC_PREFIX = 'hermes_gateway_';

type Named<C> = Omit<C, 'name' | 'registers'> & { name: string };

/** Labels and a value, as a source that counts by itself reports them. */
export type CountedSample<L extends string> = [labels: Partial<Record<L, string>>, value: number];

/**
 * The one registry `/metrics` shows. Each feature defines its metrics here (their names get
 * {@link METRIC_PREFIX}); an app has its own registry, so several apps in one process (tests,
 * tools) never share or clash. Node's process metrics come with it, event-loop lag included.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string = never>(config: Named<CounterConfiguration<L>>): Counter<L> {
    return new Counter({
      ...config,
      name: METRIC_PREFIX + config.name,
      registers: [this.registry],
    });
  }

  gauge<L extends string = never>(config: Named<GaugeConfiguration<L>>): Gauge<L> {
    return new Gauge({ ...config, name: METRIC_PREFIX + config.name, registers: [this.registry] });
  }

  histogram<L extends string = never>(config: Named<HistogramConfiguration<L>>): Histogram<L> {
    return new Histogram({
      ...config,
      name: METRIC_PREFIX + config.name,
      registers: [this.registry],
    });
  }

  /**
   * A counter read from a source that already counts (monotonically) on its own, at scrape time:
   * the hot path that counts pays nothing for the metric.
   */
  countedBy<L extends string>(
    config: Omit<Named<CounterConfiguration<L>>, 'collect'>,
    read: () => Iterable<CountedSample<L>>,
  ): Counter<L> {
    return this.counter<L>({
      ...config,
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });
  }

  /** A gauge read at scrape time. */
  gaugedBy(config: Omit<Named<GaugeConfiguration<never>>, 'collect'>, read: () => number): Gauge {
    return this.gauge({
      ...config,
      collect() {
        this.set(read());
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
