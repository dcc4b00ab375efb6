import { ApiProperty, getSchemaPath } from '@nestjs/swagger';

/** One check of `/api/health`; each check adds its own figures next to `status`. */
export class HealthIndicatorDto {
  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  status!: 'up' | 'down';
}

const CHECKS_EXAMPLE = {
  database: { status: 'up' },
  redis: { status: 'up', mode: 'off' },
  hermes: {
    status: 'up',
    profiles: {
      default: { status: 'up', url: 'http://127.0.0.1:8642', latencyMs: 4 },
    },
  },
};

const checksSchema = (example: object) => ({
  type: 'object' as const,
  additionalProperties: { $ref: getSchemaPath(HealthIndicatorDto) },
  example,
});

/**
 * The answer of a passing health check (the terminus result). `redis` is `mode: off` with one
 * instance; `hermes` stays `up` and reports each profile's upstream up or down inside it, so an
 * upstream that is down never fails liveness.
 */
export class HealthDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status!: 'ok';

  /** The checks that are up, by name. */
  @ApiProperty(checksSchema(CHECKS_EXAMPLE))
  info!: Record<string, HealthIndicatorDto>;

  /** The checks that are down: empty on a passing check. */
  @ApiProperty(checksSchema({}))
  error!: Record<string, HealthIndicatorDto>;

  /** Every check, by name. */
  @ApiProperty(checksSchema(CHECKS_EXAMPLE))
  details!: Record<string, HealthIndicatorDto>;
}
