import { Injectable } from '@nestjs/common';
import type { CountedSample } from '../metrics/metrics.registry';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { HermesClient } from './hermes.client';

type UpstreamLabel = 'operation' | 'code';

/** The upstream's failures and event streams, read from the client's own counters at scrape. */
@Injectable()
export class HermesMetrics {
  constructor(metrics: MetricsRegistry, client: HermesClient) {
    metrics.countedBy<UpstreamLabel>(
      {
        name: 'upstream_errors_total',
        help: 'Failed upstream requests and lost event streams, by operation and error code',
        labelNames: ['operation', 'code'],
      },
      () => upstreamErrors(client),
    );
    metrics.countedBy(
      { name: 'upstream_streams_opened_total', help: 'Run event streams opened on the upstream' },
      () => [[{}, client.streamStats.opened]],
    );
  }
}

function* upstreamErrors(client: HermesClient): Iterable<CountedSample<UpstreamLabel>> {
  for (const [operation, byCode] of client.failures) {
    for (const [code, count] of byCode) yield [{ operation, code }, count];
  }
  yield [{ operation: 'run events', code: 'hermes_stream_lost' }, client.streamStats.lost];
}
