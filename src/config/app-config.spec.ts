import { join, resolve } from 'node:path';
import { configFor } from './testing/config-for';

const DATA_DIR = resolve('/srv/hermes-gateway');

describe('AppConfig', () => {
  it('exposes the defaults as typed sections', () => {
    const config = configFor();
    expect(config.dataDir).toBe(resolve('./data'));
    expect(config.logLevel).toBe('info');
    expect(config.http).toEqual({
      port: 8648,
      host: '127.0.0.1',
      corsOrigins: [],
      maxBodyBytes: 1024 * 1024,
      maxJsonDepth: 32,
    });
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

  describe('limits', () => {
    it('has documented defaults', () => {
      const config = configFor();
      expect(config.sockets).toEqual({
        unauthenticatedMaxBytes: 16384,
        authTimeoutMs: 10000,
        eventsPerSecond: 20,
        eventBurst: 40,
        floodDisconnectAfter: 100,
        maxBufferedBytes: 1024 * 1024,
        sendStallMs: 5000,
        maxJsonDepth: 32,
      });
      expect(config.chatRun).toMatchObject({ maxQueueLength: 50, maxSessionlessRuns: 32 });
    });

    it('takes each limit from its variable', () => {
      const config = configFor({
        SOCKET_UNAUTHENTICATED_MAX_BYTES: '4096',
        SOCKET_AUTH_TIMEOUT_MS: '500',
        SOCKET_EVENTS_PER_SECOND: '0.5',
        SOCKET_EVENT_BURST: '3',
        SOCKET_FLOOD_DISCONNECT: '7',
        SOCKET_MAX_BUFFERED_BYTES: '65536',
        SOCKET_SEND_STALL_MS: '250',
        MAX_JSON_DEPTH: '8',
        HTTP_MAX_BODY_BYTES: '2048',
        MAX_QUEUE_LENGTH: '2',
        MAX_SESSIONLESS_RUNS: '1',
      });
      expect(config.sockets).toEqual({
        unauthenticatedMaxBytes: 4096,
        authTimeoutMs: 500,
        eventsPerSecond: 0.5,
        eventBurst: 3,
        floodDisconnectAfter: 7,
        maxBufferedBytes: 65536,
        sendStallMs: 250,
        maxJsonDepth: 8,
      });
      expect(config.http).toMatchObject({ maxBodyBytes: 2048, maxJsonDepth: 8 });
      expect(config.chatRun).toMatchObject({ maxQueueLength: 2, maxSessionlessRuns: 1 });
    });

    it.each([
      ['SOCKET_UNAUTHENTICATED_MAX_BYTES', '100'],
      ['SOCKET_EVENTS_PER_SECOND', '0'],
      ['SOCKET_EVENT_BURST', '0'],
      ['MAX_JSON_DEPTH', '2'],
      ['MAX_QUEUE_LENGTH', '0'],
      ['HTTP_MAX_BODY_BYTES', 'lots'],
    ])('refuses %s=%s', (name, value) => {
      expect(() => configFor({ [name]: value })).toThrow(new RegExp(`${name} must`));
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
        setting: { name: 'DATA_DIR', value: resolve('relative/dir') },
      });
    });

    it('resolves a relative sqlite: path against DATA_DIR', () => {
      expect(configFor({ DATA_DIR, DATABASE_URL: 'sqlite:rel.db' }).database).toEqual({
        type: 'sqlite',
        path: join(DATA_DIR, 'rel.db'),
        synchronous: 'NORMAL',
        setting: { name: 'DATABASE_URL', value: 'sqlite:rel.db' },
      });
      expect(configFor({ DATA_DIR, DATABASE_URL: 'sqlite:./sub/x.db' }).database).toEqual({
        type: 'sqlite',
        path: join(DATA_DIR, 'sub', 'x.db'),
        synchronous: 'NORMAL',
        setting: { name: 'DATABASE_URL', value: 'sqlite:./sub/x.db' },
      });
    });

    it('keeps an absolute sqlite: path', () => {
      expect(configFor({ DATA_DIR, DATABASE_URL: 'sqlite:/var/lib/gw.db' }).database).toEqual({
        type: 'sqlite',
        path: '/var/lib/gw.db',
        synchronous: 'NORMAL',
        setting: { name: 'DATABASE_URL', value: 'sqlite:/var/lib/gw.db' },
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
