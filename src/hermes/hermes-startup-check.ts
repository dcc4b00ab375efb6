import { Injectable, Logger } from '@nestjs/common';
import { HermesClient } from './hermes.client';
import { HermesProfiles } from './hermes-profiles';

/**
 * Asks every upstream once, right after the gateway starts listening, whether it answers, so
 * that a missing Hermes is said at startup rather than discovered at the first run. One warning
 * names those that do not, and how to try the gateway without one; nothing is logged when all
 * answer. It never delays the startup nor fails it: Hermes may well come up later.
 */
@Injectable()
export class HermesStartupCheck {
  private readonly logger = new Logger(HermesStartupCheck.name);

  constructor(
    private readonly profiles: HermesProfiles,
    private readonly client: HermesClient,
  ) {}

  /** Resolves once every upstream answered or failed to; never rejects. */
  async warnIfUnreachable(): Promise<void> {
    const names = this.profiles.names();
    // `health()` never rejects for upstream trouble.
    const results = await Promise.all(names.map((name) => this.client.health(name)));
    const down = results.flatMap((health, index) =>
      health.status === 'down'
        ? [`${names[index]} at ${health.url} (${health.error ?? 'down'})`]
        : [],
    );
    if (down.length === 0) return;
    this.logger.warn(
      `Hermes upstream ${down.join('; ')} does not answer: runs will fail until it is up. ` +
        'To try the gateway without Hermes: `npm run demo`, or `npm run fake-hermes` in another ' +
        'terminal (it listens on 127.0.0.1:8642, the default HERMES_URL)',
    );
  }
}
