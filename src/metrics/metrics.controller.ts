import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../common/auth/public.decorator';
import { ApiBearerToken, ApiCodedError } from '../common/errors/error-responses.decorators';
import { MetricsGuard } from './metrics.guard';
import { MetricsRegistry } from './metrics.registry';

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const METRICS_EXAMPLE = [
  '# HELP hermes_gateway_runs_active Runs in progress here',
  '# TYPE hermes_gateway_runs_active gauge',
  'hermes_gateway_runs_active 2',
  '',
].join('\n');

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  // Public to the API's guard: MetricsGuard applies the metrics' own access rule.
  @Public()
  @UseGuards(MetricsGuard)
  @Get()
  @Header('Cache-Control', 'no-store')
  // 401 only with METRICS=token (the default).
  @ApiBearerToken()
  @ApiCodedError(404, 'Metrics are turned off (METRICS=off)', {
    code: 'not_found',
    message: 'Metrics are turned off (METRICS=off)',
  })
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Runs by outcome, active runs, queues, relayed deltas, first-delta and relay latency, upstream ' +
      'errors, database commits, event-loop lag. Access follows METRICS and METRICS_TOKEN.',
  })
  @ApiOkResponse({
    description: 'Prometheus text exposition format',
    content: {
      [PROMETHEUS_CONTENT_TYPE]: { schema: { type: 'string', example: METRICS_EXAMPLE } },
    },
  })
  async scrape(@Res() response: Response): Promise<void> {
    const body = await this.metrics.render();
    response.setHeader('Content-Type', this.metrics.contentType);
    response.send(body);
  }
}
