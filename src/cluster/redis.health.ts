import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { errorMessage } from '../common/errors/error-message';
import { RedisConnection } from './redis.connection';

/**
 * Redis of a multi-instance deployment, as `/api/health` shows it: `up` with its round trip,
 * `down` with the reason, or `off` with one instance. A Redis that is down fails the check (the
 * instance cannot reach the others), unlike an upstream that is down.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisConnection,
  ) {}

  async check<const Key extends string = 'redis'>(
    key: Key = 'redis' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    if (!this.redis.client) return indicator.up({ mode: 'off' });
    try {
      return indicator.up({ latencyMs: Math.round(await this.redis.ping()) });
    } catch (error) {
      return indicator.down({ error: errorMessage(error) });
    }
  }
}
