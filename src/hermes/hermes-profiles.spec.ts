import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { AppConfig, HermesDefaults } from '../config/app-config';
import { HermesProfile } from './hermes-profile';
import { HermesProfiles, loadHermesProfiles } from './hermes-profiles';
import { StartupError } from '../startup/startup-error';
import { HermesProfilesConfigError, UnknownProfileError } from './hermes.errors';

const defaults = (overrides: Partial<HermesDefaults> = {}): HermesDefaults => ({
  url: 'http://127.0.0.1:8642',
  contextLength: 128000,
  requestTimeoutMs: 15000,
  streamIdleTimeoutMs: 90000,
  ...overrides,
});

describe('Hermes profiles', () => {
  let dir: string;
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'hermes-profiles-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has only the env-derived default profile without a file', () => {
    const profiles = loadHermesProfiles(
      defaults({ url: 'http://h:1/', apiKey: 'k', model: 'm', home: 'rel/home' }),
    );
    expect(profiles).toHaveLength(1);
    expect(profiles[0]).toMatchObject({
      name: 'default',
      baseUrl: 'http://h:1',
      contextLength: 128000,
      defaultModel: 'm',
      cleanupCommand: 'hermes',
    });
    expect(profiles[0].home).toMatch(/^\/.*rel\/home$/);
    expect(profiles[0].authHeaders()).toEqual({ Authorization: 'Bearer k' });
  });

  it('loads a YAML file and adds the env default', () => {
    const path = file(
      'profiles.yaml',
      [
        'profiles:',
        '  work:',
        '    url: https://work.example:8642',
        '    apiKey: work-key',
        '    contextLength: 200000',
        '    model: big',
        '    home: ./work-home',
        '    cleanupCommand: ./bin/hermes',
      ].join('\n'),
    );
    const profiles = loadHermesProfiles(defaults({ profilesFile: path }));
    expect(profiles.map((p) => p.name)).toEqual(['default', 'work']);
    expect(profiles[1]).toMatchObject({
      baseUrl: 'https://work.example:8642',
      contextLength: 200000,
      defaultModel: 'big',
      home: join(dir, 'work-home'),
      cleanupCommand: join(dir, 'bin/hermes'),
    });
    expect(profiles[1].authHeaders()).toEqual({ Authorization: 'Bearer work-key' });
  });

  it('loads a JSON list, and a file-defined default replaces the env one', () => {
    const path = file(
      'profiles.json',
      JSON.stringify({
        profiles: [
          { name: 'default', url: 'http://file:1' },
          { name: 'b', url: 'http://b:2' },
        ],
      }),
    );
    const profiles = loadHermesProfiles(defaults({ profilesFile: path, apiKey: 'env-key' }));
    expect(profiles.map((p) => [p.name, p.baseUrl])).toEqual([
      ['default', 'http://file:1'],
      ['b', 'http://b:2'],
    ]);
    expect(profiles[0].apiKey).toBeUndefined();
    expect(profiles[1].contextLength).toBe(128000);
  });

  it('fails with a message naming the file, the profile and the field', () => {
    const path = file(
      'bad.yaml',
      'profiles:\n  work:\n    url: not-a-url\n    contextLength: 10\n    apiKey: ""\n    colour: red\n',
    );
    let error: unknown;
    try {
      loadHermesProfiles(defaults({ profilesFile: path }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HermesProfilesConfigError);
    const message = (error as Error).message;
    expect(message).toContain(path);
    expect(message).toContain('profiles.work.url');
    expect(message).toContain('profiles.work.contextLength');
    expect(message).toContain('profiles.work.apiKey');
    expect(message).toContain('profiles.work.colour');
  });

  it.each([
    ['missing.yaml', null, 'cannot read'],
    ['profiles.toml', 'x = 1', "unsupported extension '.toml'"],
    ['broken.json', '{', 'not valid JSON'],
    ['empty.yaml', 'profiles: {}', 'non-empty `profiles`'],
    ['bad-name.yaml', 'profiles:\n  "no spaces": { url: "http://a:1" }', 'the name must match'],
  ])('rejects %s', (name, content, expected) => {
    const path = content === null ? join(dir, name) : file(name, content);
    expect(() => loadHermesProfiles(defaults({ profilesFile: path }))).toThrow(expected);
  });

  it('never shows an invalid key in the error', () => {
    const path = file(
      'k.json',
      JSON.stringify({ profiles: { a: { url: 'http://a:1', apiKey: 42 } } }),
    );
    expect(() => loadHermesProfiles(defaults({ profilesFile: path }))).toThrow(
      /profiles\.a\.apiKey must be a string$/,
    );
  });

  describe('HermesProfiles', () => {
    const config = (hermes: HermesDefaults): AppConfig => ({ hermes }) as AppConfig;

    it('stops the startup with one line naming HERMES_PROFILES_FILE', () => {
      const broken = file('broken.yaml', 'profiles:\n  a: b: c\n');
      const missing = join(dir, 'missing.json');
      for (const [path, problem] of [
        [broken, 'not valid YAML (Nested mappings are not allowed'],
        [missing, 'cannot read the file (ENOENT'],
      ]) {
        let error: unknown;
        try {
          new HermesProfiles(config(defaults({ profilesFile: path })));
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(StartupError);
        const message = (error as Error).message;
        expect(message.startsWith(`HERMES_PROFILES_FILE=${path}: ${problem}`)).toBe(true);
        expect(message).not.toContain('\n');
      }
    });

    it('gets profiles by name and throws UnknownProfileError for others', () => {
      const path = file('p.yaml', 'profiles:\n  work: { url: "http://w:1" }\n');
      const profiles = new HermesProfiles(config(defaults({ profilesFile: path })));
      expect(profiles.names()).toEqual(['default', 'work']);
      expect(profiles.has('work')).toBe(true);
      expect(profiles.get('work').baseUrl).toBe('http://w:1');
      expect(profiles.has('nope')).toBe(false);
      expect(() => profiles.get('nope')).toThrow(UnknownProfileError);
      expect(() => profiles.get('nope')).toThrow("Unknown Hermes profile 'nope'");
      try {
        profiles.get('nope');
      } catch (error) {
        expect(error).toMatchObject({ code: 'unknown_profile', status: 400 });
      }
    });

    it('logs the profiles without their keys', () => {
      const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
      new HermesProfiles(config(defaults({ apiKey: 'super-secret-key' })));
      expect(log).toHaveBeenCalledTimes(1);
      expect(JSON.stringify(log.mock.calls)).not.toContain('super-secret-key');
      log.mockRestore();
    });
  });

  it('redacts the API key from every way of printing a profile', () => {
    const profile = new HermesProfile({
      name: 'p',
      baseUrl: 'http://user:pw@h:1/',
      apiKey: 'super-secret-key',
      contextLength: 1024,
    });
    const printed = [
      JSON.stringify(profile),
      JSON.stringify({ profile }),
      inspect(profile, { depth: 5 }),
      inspect({ nested: { profile } }, { depth: 5 }),
      `${String(profile.apiKey)}`,
      JSON.stringify(profile.apiKey),
      inspect(profile.apiKey),
      Object.keys(profile).join(','),
    ];
    for (const text of printed) {
      expect(text).not.toContain('super-secret-key');
      expect(text).not.toContain(':pw@');
    }
    expect(JSON.parse(JSON.stringify(profile))).toMatchObject({
      apiKey: '[redacted]',
      baseUrl: 'http://h:1',
    });
    expect(profile.displayUrl).toBe('http://h:1');
    expect(profile.apiKey?.reveal()).toBe('super-secret-key');
  });

  it('sends no Authorization header without a key', () => {
    expect(
      new HermesProfile({ name: 'p', baseUrl: 'http://h', contextLength: 1024 }).authHeaders(),
    ).toEqual({});
  });
});
