import { join, resolve } from 'node:path';
import { configFor } from './testing/config-for';

const DATA_DIR = resolve('/srv/hermes-gateway');

describe('AppConfig', () => {
  it('exposes the defaults as typed sections', () => {
    const config = configFor();
    expect(config.dataDir).toBe(resolve('./data'));
    expect(config.logLevel).toBe('info');
    expect(config.http).toEqual({ port: 8648, host: '127.0.0.1', corsOrigins: [] });
    expect(config.hermes).toMatchObject({
      url: 'http://127.0.0.1:8642',
      contextLength: 128000,
      requestTimeoutMs: 15000,
      streamIdleTimeoutMs: 90000,
    });
    expect(config.chatRun).toMatchObject({
      maxInputBytes: 512 * 1024,
      abortGraceMs: 5000,
    });
    expect(config.compression).toEqual({
      threshold: 0.5,
      tailFraction: 0.25,
      summaryFraction: 0.15,
      timeoutMs: 120000,
    });
  });

  describe('auth', () => {
    it.each(['true', '1', 'TRUE', ' True ', '1 '])('AUTH_DISABLED=%j disables auth', (value) => {
      expect(configFor({ AUTH_DISABLED: value }).auth.disabled).toBe(true);
    });

    it.each(['0', 'false', 'yes', 'on', 'disabled', 'truee'])(
      'AUTH_DISABLED=%j keeps auth on',
      (value) => {
        expect(configFor({ AUTH_DISABLED: value }).auth.disabled).toBe(false);
      },
    );

    it('keeps auth on when AUTH_DISABLED is unset', () => {
      expect(configFor().auth.disabled).toBe(false);
    });

    it('keeps the token file in DATA_DIR and passes AUTH_TOKEN through', () => {
      const token = 'x'.repeat(24);
      expect(configFor({ DATA_DIR, AUTH_TOKEN: token }).auth).toEqual({
        disabled: false,
        token,
        tokenFile: join(DATA_DIR, 'auth-token'),
      });
    });
  });

  describe('database', () => {
    it('takes SQLITE_SYNCHRONOUS=FULL and rejects other values', () => {
      expect(configFor({ SQLITE_SYNCHRONOUS: 'FULL' }).database).toMatchObject({
        synchronous: 'FULL',
      });
      expect(() => configFor({ SQLITE_SYNCHRONOUS: 'OFF' })).toThrow(/SQLITE_SYNCHRONOUS/);
    });

    it('defaults to gateway.sqlite under the resolved DATA_DIR', () => {
      expect(configFor({ DATA_DIR: 'relative/dir' }).database).toEqual({
        type: 'sqlite',
        path: join(resolve('relative/dir'), 'gateway.sqlite'),
        synchronous: 'NORMAL',
      });
    });

    it('resolves a relative sqlite: path against DATA_DIR', () => {
      expect(configFor({ DATA_DIR, DATABASE_URL: 'sqlite:rel.db' }).database).toEqual({
        type: 'sqlite',
        path: join(DATA_DIR, 'rel.db'),
        synchronous: 'NORMAL',
      });
      expect(configFor({ DATA_DIR, DATABASE_URL: 'sqlite:./sub/x.db' }).database).toEqual({
        type: 'sqlite',
        path: join(DATA_DIR, 'sub', 'x.db'),
        synchronous: 'NORMAL',
      });
    });

    it('keeps an absolute sqlite: path', () => {
      expect(configFor({ DATA_DIR, DATABASE_URL: 'sqlite:/var/lib/gw.db' }).database).toEqual({
        type: 'sqlite',
        path: '/var/lib/gw.db',
        synchronous: 'NORMAL',
      });
    });

    it.each(['postgres://gw:pw@db:5432/gw', 'postgresql://db/gw'])(
      'selects PostgreSQL for %s, with its schema',
      (url) => {
        expect(configFor({ DATABASE_URL: url, DATABASE_SCHEMA: 'gw_test' }).database).toEqual({
          type: 'postgres',
          url,
          schema: 'gw_test',
        });
      },
    );

    it('leaves the PostgreSQL schema unset when DATABASE_SCHEMA is', () => {
      expect(configFor({ DATABASE_URL: 'postgres://db/gw' }).database).toEqual({
        type: 'postgres',
        url: 'postgres://db/gw',
        schema: undefined,
      });
    });
  });

  describe('CORS_ORIGINS', () => {
    it.each<[string | undefined, string[] | true]>([
      [undefined, []],
      ['*', true],
      [' * ', true],
      ['https://a.example', ['https://a.example']],
      ['a, b', ['a', 'b']],
      ['a,,b, ', ['a', 'b']],
    ])('%j → %j', (raw, expected) => {
      const config = configFor(raw === undefined ? {} : { CORS_ORIGINS: raw });
      expect(config.http.corsOrigins).toEqual(expected);
    });
  });
});
