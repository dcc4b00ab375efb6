/**
 * Runs the fake Hermes server on its own:
 *   npm run fake-hermes -- --port 8642 [--host 127.0.0.1] [--api-key K] [--keepalive-ms 30000]
 *                          [--scenario "deltas:50,interval:40"] [--verbose]
 */
import { parseArgs } from 'node:util';

import { FakeHermesServer } from './fake-hermes.server';

const USAGE = `Usage: fake-hermes [--port 8642] [--host 127.0.0.1] [--api-key KEY] [--keepalive-ms 30000]
                   [--scenario SPEC] [--record-requests] [--verbose]
SPEC is a default scenario: a preset name ("tools"), items ("deltas:50,interval:40") or JSON.`;

function toInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8642' },
      host: { type: 'string', default: '127.0.0.1' },
      'api-key': { type: 'string' },
      'keepalive-ms': { type: 'string' },
      scenario: { type: 'string' },
      'record-requests': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const server = new FakeHermesServer({
    apiKey: values['api-key'],
    keepaliveMs: toInt(values['keepalive-ms'], 'keepalive-ms', 30_000),
    recordRequests: values['record-requests'],
    log: values.verbose ? (line) => console.log(line) : undefined,
  });
  if (values.scenario !== undefined) server.setDefaultScenario(values.scenario);
  const url = await server.start(toInt(values.port, 'port', 8642), values.host);
  console.log(`fake-hermes listening on ${url}`);
  const shutdown = (): void => {
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  console.error(USAGE);
  process.exit(1);
});
