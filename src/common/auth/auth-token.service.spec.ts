import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../../config/app-config';
import { VALIDATED_ENV_KEY, validateEnvironment } from '../../config/validate-environment';
import { AuthTokenService } from './auth-token.service';

const TOKEN = 'correct-horse-battery-staple';

async function started(env: Record<string, string>): Promise<AuthTokenService> {
  const config = new AppConfig(
    new ConfigService({ [VALIDATED_ENV_KEY]: validateEnvironment(env) }),
  );
  const service = new AuthTokenService(config);
  await service.onModuleInit();
  return service;
}

describe('AuthTokenService', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gw-auth-'));
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('with AUTH_TOKEN', () => {
    let service: AuthTokenService;

    beforeEach(async () => {
      service = await started({ DATA_DIR: dataDir, AUTH_TOKEN: TOKEN });
    });

    it('accepts the token', () => {
      expect(service.verify(TOKEN)).toBe(true);
    });

    it.each<[string, string | null | undefined]>([
      ['a wrong token', 'wrong-horse-battery-staple'],
      ['a token sharing its prefix', TOKEN.slice(0, -1)],
      ['the token with a suffix', `${TOKEN}x`],
      ['the token with a different case', TOKEN.toUpperCase()],
      ['an empty string', ''],
      ['undefined', undefined],
      ['null', null],
    ])('rejects %s', (_label, candidate) => {
      expect(service.verify(candidate)).toBe(false);
    });

    it('writes no token file', async () => {
      await expect(stat(join(dataDir, 'auth-token'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  it('rejects everything before it is initialised', () => {
    const config = new AppConfig(
      new ConfigService({
        [VALIDATED_ENV_KEY]: validateEnvironment({ DATA_DIR: dataDir, AUTH_TOKEN: TOKEN }),
      }),
    );
    expect(new AuthTokenService(config).verify(TOKEN)).toBe(false);
  });

  describe('without AUTH_TOKEN', () => {
    it('generates a token file with mode 0600 and accepts only its token', async () => {
      const service = await started({ DATA_DIR: dataDir });
      const file = join(dataDir, 'auth-token');
      const token = (await readFile(file, 'utf8')).trim();

      expect(token.length).toBeGreaterThanOrEqual(32);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(service.verify(token)).toBe(true);
      expect(service.verify(`${token}x`)).toBe(false);
    });

    it('reuses the stored token on the next start', async () => {
      const first = await started({ DATA_DIR: dataDir });
      const token = (await readFile(join(dataDir, 'auth-token'), 'utf8')).trim();
      const second = await started({ DATA_DIR: dataDir });

      expect(first.verify(token)).toBe(true);
      expect(second.verify(token)).toBe(true);
      expect((await readFile(join(dataDir, 'auth-token'), 'utf8')).trim()).toBe(token);
    });

    it('uses a token an operator put in the file', async () => {
      await writeFile(join(dataDir, 'auth-token'), '  operator-chosen-token-123\n');
      const service = await started({ DATA_DIR: dataDir });
      expect(service.verify('operator-chosen-token-123')).toBe(true);
    });

    it('creates DATA_DIR (and its missing parents) as 0700 when it does not exist yet', async () => {
      const nested = join(dataDir, 'a', 'b');
      const service = await started({ DATA_DIR: nested });
      const token = (await readFile(join(nested, 'auth-token'), 'utf8')).trim();
      expect(service.verify(token)).toBe(true);
      expect((await stat(nested)).mode & 0o777).toBe(0o700);
      expect((await stat(join(dataDir, 'a'))).mode & 0o777).toBe(0o700);
    });

    it('warns about a token file that other users can read, and still uses it', async () => {
      const file = join(dataDir, 'auth-token');
      await writeFile(file, 'operator-chosen-token-123\n', { mode: 0o644 });
      await chmod(file, 0o644);
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const service = await started({ DATA_DIR: dataDir });
      expect(service.verify('operator-chosen-token-123')).toBe(true);
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/readable by other users \(mode 0644\)/),
      );
      expect((await stat(file)).mode & 0o777).toBe(0o644);
    });

    it('says nothing about a 0600 token file', async () => {
      const file = join(dataDir, 'auth-token');
      await writeFile(file, 'operator-chosen-token-123\n', { mode: 0o600 });
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      await started({ DATA_DIR: dataDir });
      expect(warn).not.toHaveBeenCalled();
    });
  });

  describe('with AUTH_DISABLED', () => {
    it('accepts any value and writes no token file', async () => {
      const service = await started({ DATA_DIR: dataDir, AUTH_DISABLED: 'true' });
      expect(service.disabled).toBe(true);
      expect(service.verify(undefined)).toBe(true);
      expect(service.verify('anything')).toBe(true);
      await expect(stat(join(dataDir, 'auth-token'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  describe('bearer()', () => {
    it.each<[string | undefined, string | undefined]>([
      ['Bearer x', 'x'],
      ['bearer  x ', 'x'],
      ['BEARER\tabc.def-123', 'abc.def-123'],
      ['Basic x', undefined],
      ['Bearer', undefined],
      ['Bearer ', undefined],
      ['Bearer a b', undefined],
      ['xBearer y', undefined],
      ['', undefined],
      [undefined, undefined],
    ])('%j → %j', (header, expected) => {
      expect(AuthTokenService.bearer(header)).toBe(expected);
    });
  });
});
