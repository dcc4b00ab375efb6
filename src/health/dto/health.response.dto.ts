import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { ApiInteger, ApiOptionalInteger } from '../../common/http/openapi.decorators';

/** A Hermes profile's upstream, as the `hermes` check reports it. */
export class UpstreamHealthDto {
  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  status!: 'up' | 'down';

  /** The upstream's URL, without credentials. */
  @ApiProperty({ example: 'http://127.0.0.1:8642' })
  url!: string;

  /** Round trip of its health probe, in milliseconds. */
  @ApiInteger({ example: 4 })
  latencyMs!: number;

  /** Why it is down. */
  @ApiPropertyOptional({ example: 'HTTP 503' })
  error?: string;
}

/** One check of `/api/health`: its status and the figures that check adds. */
export class HealthIndicatorDto {
  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  status!: 'up' | 'down';

  /** `redis` with one instance: no Redis is used. */
  @ApiPropertyOptional({ enum: ['off'], example: 'off' })
  mode?: 'off';

  /** `redis`: round trip of a PING, in milliseconds. */
  @ApiOptionalInteger({ example: 1 })
  latencyMs?: number;

  /** A check that is down: why. */
  @ApiPropertyOptional({ example: 'connect ECONNREFUSED 127.0.0.1:6379' })
  error?: string;

  /** `hermes`: each profile's upstream, up or down; the check itself stays up. */
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(UpstreamHealthDto) },
    example: { default: { status: 'up', url: 'http://127.0.0.1:8642', latencyMs: 4 } },
  })
  profiles?: Record<string, UpstreamHealthDto>;
}

const CHECKS_EXAMPLE = {
  database: { status: 'up' },
  redis: { status: 'up', mode: 'off' },
  hermes: {
    status: 'up',
    profiles: { default: { status: 'up', url: 'http://127.0.0.1:8642', latencyMs: 4 } },
  },
};

const checksSchema = (example: object) => ({
  type: 'object' as const,
  additionalProperties: { $ref: getSchemaPath(HealthIndicatorDto) },
  example,
});

/**
 * The answer of a passing health check (the terminus result): the checks `database`, `redis`
 * and `hermes`, by name. An upstream that is down shows inside `hermes` and never fails it.
 */
export class HealthDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status!: 'ok';

  /** The checks that are up. */
  @ApiProperty(checksSchema(CHECKS_EXAMPLE))
  info!: Record<string, HealthIndicatorDto>;

  /** The checks that are down: empty on a passing check. */
  @ApiProperty(checksSchema({}))
  error!: Record<string, HealthIndicatorDto>;

  /** Every check. */
  @ApiProperty(checksSchema(CHECKS_EXAMPLE))
  details!: Record<string, HealthIndicatorDto>;
}
