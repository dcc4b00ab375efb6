import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../common/auth/public.decorator';
import { MetricsGuard } from './metrics.guard';
import { MetricsRegistry } from './metrics.registry';

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  // Public to the API's guard: MetricsGuard applies the metrics' own access rule.
  @Public()
  @UseGuards(MetricsGuard)
  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Runs by outcome, active runs, queues, relayed deltas, first-delta and relay latency, upstream ' +
      'errors, database commits, event-loop lag. Access follows METRICS and METRICS_TOKEN.',
  })
  @ApiOkResponse({ description: 'Prometheus text exposition format', type: String })
  async scrape(@Res() response: Response): Promise<void> {
    const body = await this.metrics.render();
    response.setHeader('Content-Type', this.metrics.contentType);
    response.send(body);
  }
}
