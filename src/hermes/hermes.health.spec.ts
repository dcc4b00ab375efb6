import { Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { HermesClient } from './hermes.client';
import { HermesHealthIndicator } from './hermes.health';
import { HermesProfiles } from './hermes-profiles';

describe('HermesHealthIndicator', () => {
  let server: Server;
  let dir: string;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    server = createServer((req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dir = mkdtempSync(join(tmpdir(), 'hermes-health-'));
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports each upstream as up or down while staying up itself', async () => {
    const up = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A port that was just free: nothing listens there.
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const down = `http://127.0.0.1:${(spare.address() as AddressInfo).port}`;
    await new Promise((resolve) => spare.close(resolve));

    const file = join(dir, 'profiles.json');
    writeFileSync(
      file,
      JSON.stringify({ profiles: { broken: { url: down, apiKey: 'k-secret' } } }),
    );
    const config = {
      hermes: {
        url: up,
        profilesFile: file,
        contextLength: 128000,
        requestTimeoutMs: 2000,
        streamIdleTimeoutMs: 2000,
      },
    } as AppConfig;
    const profiles = new HermesProfiles(config);
    const indicator = new HermesHealthIndicator(
      new HealthIndicatorService(),
      profiles,
      new HermesClient(profiles, config),
    );

    const result = await indicator.check();
    expect(result.hermes.status).toBe('up');
    expect(result.hermes.profiles.default).toMatchObject({ status: 'up', url: up });
    expect(result.hermes.profiles.broken).toMatchObject({ status: 'down', url: down });
    expect(result.hermes.profiles.broken.error).toContain('ECONNREFUSED');
    expect(JSON.stringify(result)).not.toContain('k-secret');
    expect(Object.keys(await indicator.check('upstreams'))).toEqual(['upstreams']);
  });
});
