import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startWithFakeHermes, type FakeUpstreamApp } from './support/fake-upstream-app';

const ROOT = join(__dirname, '..', '..');
const EXAMPLE = 'client/examples/chat.ts';

/**
 * The README's client example is `client/examples/chat.ts`, printed verbatim; this runs that
 * file as `npm run example` does (ts-node, type-checked) against a real gateway.
 */
describe('the README client example (e2e)', () => {
  let started: FakeUpstreamApp;

  beforeAll(async () => {
    started = await startWithFakeHermes();
  });

  afterAll(() => started.stop());

  it('is in the README as it is in its file', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = readFileSync(join(ROOT, EXAMPLE), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });

  it('runs as printed', async () => {
    const { hermes, app: t } = started;
    hermes.setNextScenario({ deltas: 3, deltaText: 'hi{i} ' });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [require.resolve('ts-node/dist/bin'), EXAMPLE, 'example-session'],
      {
        cwd: ROOT,
        env: { ...process.env, GATEWAY_URL: t.url, GATEWAY_TOKEN: t.token },
        timeout: 60_000,
      },
    );
    // The run's acknowledgement may come before, between or after the streamed deltas.
    const ack = 'run started, queue 0\n';
    expect(stdout).toContain(ack);
    expect(stdout.replace(ack, '')).toMatch(/^0 messages so far\nhi0 hi1 hi2 \nlast seq \d+\n$/);
    expect(hermes.requestsTo('/v1/runs', 'POST')[0].body).toMatchObject({ input: 'Hello!' });
  }, 90_000);
});
