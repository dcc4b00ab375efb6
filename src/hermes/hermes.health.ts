import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { HermesClient, HermesUpstreamHealth } from './hermes.client';
import { HermesProfiles } from './hermes-profiles';

export type HermesProfilesHealth = Record<string, HermesUpstreamHealth>;

/**
 * Reports each profile's upstream as `up` or `down` inside an indicator that is itself always
 * `up`: the gateway is alive even when an upstream is not, so liveness must never fail on it.
 *
 * ```ts
 * @Get() @HealthCheck()
 * check() { return this.health.check([() => this.hermes.check()]); }
 * // → info.hermes = { status: 'up', profiles: { default: { status: 'down', url, latencyMs, error } } }
 * ```
 */
@Injectable()
export class HermesHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly profiles: HermesProfiles,
    private readonly client: HermesClient,
  ) {}

  async check<const Key extends string = 'hermes'>(
    key: Key = 'hermes' as Key,
  ): Promise<HealthIndicatorResult<Key, 'up', { profiles: HermesProfilesHealth }>> {
    const names = this.profiles.names();
    // `health()` never rejects for upstream trouble; all profiles are probed in parallel.
    const results = await Promise.all(names.map((name) => this.client.health(name)));
    const profiles: HermesProfilesHealth = {};
    names.forEach((name, index) => (profiles[name] = results[index]));
    return this.indicators.check(key).up({ profiles });
  }
}
