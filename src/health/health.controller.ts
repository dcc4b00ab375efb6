import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Public } from '../common/auth/public.decorator';
import { RedisHealthIndicator } from '../cluster/redis.health';
import { HermesHealthIndicator } from '../hermes/hermes.health';

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
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 3000 }),
      () => this.redis.check('redis'),
      () => this.hermes.check('hermes'),
    ]);
  }
}
