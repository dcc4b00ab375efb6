import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Public } from '../common/auth/public.decorator';
import { ApiCodedError } from '../common/errors/error-responses.decorators';
import { RedisHealthIndicator } from '../cluster/redis.health';
import { HermesHealthIndicator } from '../hermes/hermes.health';
import { HealthDto, HealthIndicatorDto, UpstreamHealthDto } from './dto/health.response.dto';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly hermes: HermesHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  /**
   * Liveness, a database round trip, Redis (several instances) and each Hermes upstream
   * (reported up/down, but an upstream that is down never fails liveness). Needs no token.
   */
  @Get()
  // Documented below: terminus' own schema says 503, which this API does not answer.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiExtraModels(HealthIndicatorDto, UpstreamHealthDto)
  @ApiOkResponse({ type: HealthDto, description: 'Every check passed' })
  // A failed check reaches the exception filter as an unexpected error.
  @ApiCodedError(500, 'A check failed: the database, or Redis with several instances', {
    code: 'internal_error',
    message: 'Internal server error (id 0b6f6d7c-2f0e-4f43-9c55-7f4c1b9e8a21)',
    errorId: '0b6f6d7c-2f0e-4f43-9c55-7f4c1b9e8a21',
  })
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 3000 }),
      () => this.redis.check('redis'),
      () => this.hermes.check('hermes'),
    ]);
  }
}
