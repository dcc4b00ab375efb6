import { Controller, Get, HttpStatus, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Public } from '../common/auth/public.decorator';
import { AppError } from '../common/errors/app-error';
import { ApiCodedError } from '../common/errors/error-responses.decorators';
import { RedisHealthIndicator } from '../cluster/redis.health';
import { HermesHealthIndicator } from '../hermes/hermes.health';
import { HealthDto, HealthIndicatorDto, UpstreamHealthDto } from './dto/health.response.dto';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  private readonly logger = new Logger('Health');
  /** Which checks the last probe found failing (null: all passed), so that only changes are logged. */
  private failing: string | null = null;

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
  // Documented below: terminus' own schema describes its body, not the coded one answered here.
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiExtraModels(HealthIndicatorDto, UpstreamHealthDto)
  @ApiOkResponse({ type: HealthDto, description: 'Every check passed' })
  @ApiCodedError(503, 'A check failed: the database, or Redis with several instances', {
    code: 'unhealthy',
    message: 'Failing checks: database (timeout of 3000ms exceeded)',
  })
  async check(): Promise<HealthCheckResult> {
    try {
      const result = await this.health.check([
        () => this.db.pingCheck('database', { timeout: 3000 }),
        () => this.redis.check('redis'),
        () => this.hermes.check('hermes'),
      ]);
      this.report(null);
      return result;
    } catch (error) {
      // Terminus reports failed checks as a 503 carrying its result; anything else is a bug.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const failing = failingChecks(error.getResponse());
      this.report(failing);
      throw new AppError('unhealthy', failing.message, HttpStatus.SERVICE_UNAVAILABLE);
    }
  }

  /**
   * Probes come every few seconds: only a change of state is worth a log line, and the state is
   * which checks fail (a driver's reason may differ from one probe to the next).
   */
  private report(failing: FailingChecks | null): void {
    const names = failing?.names ?? null;
    if (names === this.failing) return;
    if (failing) this.logger.warn(failing.message);
    else this.logger.log('Every check passes again');
    this.failing = names;
  }
}

interface FailingChecks {
  /** `database, redis`: what fails. */
  names: string;
  /** `Failing checks: database (why), redis (why)`. */
  message: string;
}

function failingChecks(result: unknown): FailingChecks {
  const checks = Object.entries((result as Partial<HealthCheckResult> | null)?.error ?? {});
  if (checks.length === 0) return { names: '', message: 'The server is shutting down' };
  const described = checks.map(([name, check]) => {
    const { message, error } = (check ?? {}) as { message?: unknown; error?: unknown };
    const why = message ?? error;
    return typeof why === 'string' && why !== '' ? `${name} (${why})` : name;
  });
  return {
    names: checks.map(([name]) => name).join(', '),
    message: `Failing checks: ${described.join(', ')}`,
  };
}
