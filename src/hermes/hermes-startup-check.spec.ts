import { Logger } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configFor } from '../config/testing/config-for';
import { AppLogger } from '../logging/app-logger.service';
import { createRootLogger } from '../logging/root-logger';
import { LogLines } from '../logging/testing/log-lines';
import { HermesClient } from './hermes.client';
import { HermesProfiles } from './hermes-profiles';
import { HermesStartupCheck } from './hermes-startup-check';

/** The check against `url`, its log lines in `sink`. */
function checkFor(url: string, sink: LogLines): HermesStartupCheck {
  const config = configFor({
    HERMES_URL: url,
    LOG_LEVEL: 'info',
    HERMES_REQUEST_TIMEOUT_MS: '2000',
  });
  Logger.overrideLogger(new AppLogger(createRootLogger(config, sink)));
  const profiles = new HermesProfiles(config);
  return new HermesStartupCheck(profiles, new HermesClient(profiles, config));
}

const listening = (server: Server): Promise<string> =>
  new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );

const warnings = (sink: LogLines) => sink.lines.filter((line) => line.level === 40);

describe('HermesStartupCheck', () => {
  afterEach(() => Logger.overrideLogger(false));

  it('logs nothing when the upstream answers', async () => {
    const hermes = createServer((_req, res) => res.writeHead(200).end('{"status":"ok"}'));
    try {
      const sink = new LogLines();
      await checkFor(await listening(hermes), sink).warnIfUnreachable();
      expect(warnings(sink)).toEqual([]);
    } finally {
      await new Promise((resolve) => hermes.close(resolve));
    }
  });

  it('warns once, saying how to try the gateway without Hermes, when it does not answer', async () => {
    // A port that was just free: nothing listens there.
    const spare = createServer();
    const url = await listening(spare);
    await new Promise((resolve) => spare.close(resolve));
    const sink = new LogLines();
    await checkFor(url, sink).warnIfUnreachable();
    expect(warnings(sink)).toHaveLength(1);
    const message = String(warnings(sink)[0].msg);
    expect(message).toContain(`Hermes upstream default at ${url} (`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).toContain('runs will fail until it is up');
    expect(message).toContain('`npm run demo`');
    expect(message).toContain('`npm run fake-hermes`');
  });
});
