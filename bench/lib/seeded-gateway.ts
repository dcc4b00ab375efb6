import { Gateway, type GatewayOptions } from './processes';
import { seedSessions, type SeedSession } from './seed';
import { warmUp } from './warm-up';

/**
 * A gateway whose database already holds `sessions`: start it once so that its migrations
 * create the schema, stop it, write the rows directly, start it again on the same data dir.
 * Seeding a stopped server means nothing it caches can disagree with the rows. The new server
 * is warmed up on throw-away sessions before it is handed over.
 */
export async function startSeededGateway(
  options: GatewayOptions,
  sessions: readonly SeedSession[],
): Promise<Gateway> {
  const first = await Gateway.start(options);
  await first.stop();
  await seedSessions(first.dbPath, sessions);
  const gateway = await Gateway.start({
    ...options,
    dataDir: first.dataDir,
    env: { ...options.env, AUTH_TOKEN: first.token },
  });
  await warmUp(gateway);
  return gateway;
}
