import { Injectable, Logger } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import {
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Min,
  validateSync,
  ValidationError,
} from 'class-validator';
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PROFILE_NAME } from '../common/validation/profile-name';
import { AppConfig, HermesDefaults } from '../config/app-config';
import { StartupError } from '../startup/startup-error';
import { HermesProfile, HermesProfileInit } from './hermes-profile';
import { errorMessage, HermesProfilesConfigError, UnknownProfileError } from './hermes.errors';

export const DEFAULT_PROFILE = 'default';

/**
 * One entry of the profiles file (`HERMES_PROFILES_FILE`, JSON or YAML by extension):
 *
 * ```yaml
 * profiles:
 *   default: { url: http://127.0.0.1:8642 }
 *   work:
 *     url: https://hermes.internal:8642
 *     apiKey: sk-...
 *     contextLength: 200000
 *     model: anthropic/claude-sonnet-4
 *     home: /srv/hermes/work      # enables state.db reads and session cleanup
 *     cleanupCommand: hermes      # default `hermes`
 * ```
 *
 * `profiles` may also be a list of entries that carry a `name`. Relative `home` and
 * `cleanupCommand` paths are resolved against the file's directory.
 */
export class HermesProfileFileEntry {
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  url!: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  apiKey?: string;

  @IsOptional()
  @IsInt()
  @Min(1024)
  contextLength?: number;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  model?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  home?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  cleanupCommand?: string;
}

/**
 * Every configured upstream, loaded and validated once at startup. A bad file stops the app with
 * a message naming the file, the profile and the field.
 */
@Injectable()
export class HermesProfiles {
  private readonly logger = new Logger(HermesProfiles.name);
  private readonly byName: ReadonlyMap<string, HermesProfile>;

  constructor(config: AppConfig) {
    const profiles = loadOrExplain(config.hermes);
    this.byName = new Map(profiles.map((profile) => [profile.name, profile]));
    this.logger.log(
      `Hermes profiles: ${profiles
        .map(
          (p) => `${p.name} → ${p.displayUrl}${p.apiKey ? ' (key)' : ''}${p.home ? ' (home)' : ''}`,
        )
        .join(', ')}`,
    );
  }

  /** @throws UnknownProfileError */
  get(name: string): HermesProfile {
    const profile = this.byName.get(name);
    if (!profile) throw new UnknownProfileError(name, this.names());
    return profile;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): HermesProfile[] {
    return [...this.byName.values()];
  }
}

/** {@link loadHermesProfiles}; a bad file is a {@link StartupError} naming the setting. */
function loadOrExplain(defaults: HermesDefaults): HermesProfile[] {
  try {
    return loadHermesProfiles(defaults);
  } catch (error) {
    if (!(error instanceof HermesProfilesConfigError) || !defaults.profilesFile) throw error;
    const problems = error.problems.join('; ');
    throw StartupError.setting('HERMES_PROFILES_FILE', defaults.profilesFile, problems, error);
  }
}

/** Profiles from the file (if any) plus the env-derived `default`, unless the file defines it. */
export function loadHermesProfiles(
  defaults: HermesDefaults,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): HermesProfile[] {
  const fromFile = defaults.profilesFile
    ? loadProfilesFile(defaults.profilesFile, defaults, readFile)
    : [];
  const profiles = [...fromFile];
  if (!profiles.some((profile) => profile.name === DEFAULT_PROFILE)) {
    profiles.unshift(
      new HermesProfile({
        name: DEFAULT_PROFILE,
        baseUrl: defaults.url,
        apiKey: defaults.apiKey,
        contextLength: defaults.contextLength,
        defaultModel: defaults.model,
        home: defaults.home ? resolve(defaults.home) : undefined,
      }),
    );
  }
  return profiles;
}

function loadProfilesFile(
  file: string,
  defaults: HermesDefaults,
  readFile: (path: string) => string,
): HermesProfile[] {
  const path = resolve(file);
  const source = `file ${path}`;
  const fail = (...problems: string[]): never => {
    throw new HermesProfilesConfigError(source, problems);
  };

  let text = '';
  try {
    text = readFile(path);
  } catch (error) {
    fail(`cannot read the file (${errorMessage(error)})`);
  }

  let document: unknown;
  const extension = extname(path).toLowerCase();
  try {
    if (extension === '.json') document = JSON.parse(text);
    else if (extension === '.yaml' || extension === '.yml') document = parseYaml(text);
    else fail(`unsupported extension '${extension}' (use .json, .yaml or .yml)`);
  } catch (error) {
    if (error instanceof HermesProfilesConfigError) throw error;
    // The parser's first line says where; the rest is an excerpt of the file.
    const where = errorMessage(error).split('\n', 1)[0];
    fail(`not valid ${extension.slice(1).toUpperCase()} (${where})`);
  }

  const entries = profileEntries(document, fail);
  const problems: string[] = [];
  const profiles: HermesProfile[] = [];
  const seen = new Set<string>();
  for (const [name, raw] of entries) {
    const at = `profiles.${name}`;
    if (!PROFILE_NAME.test(name)) {
      problems.push(`${at}: the name must match ${PROFILE_NAME.source}`);
      continue;
    }
    if (seen.has(name)) {
      problems.push(`${at}: defined twice`);
      continue;
    }
    seen.add(name);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${at} must be an object`);
      continue;
    }
    const entry = plainToInstance(HermesProfileFileEntry, raw);
    const errors = validateSync(entry, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length > 0) {
      problems.push(...errors.map((error) => describe(at, error)));
      continue;
    }
    profiles.push(new HermesProfile(toInit(name, entry, defaults, dirname(path))));
  }
  if (problems.length > 0) fail(...problems);
  return profiles;
}

function profileEntries(
  document: unknown,
  fail: (...problems: string[]) => never,
): [string, unknown][] {
  const root =
    typeof document === 'object' && document !== null ? (document as Record<string, unknown>) : {};
  const list = root['profiles'];
  if (Array.isArray(list)) {
    return list.map((item: unknown, index): [string, unknown] => {
      if (typeof item !== 'object' || item === null) return [`[${index}]`, item];
      const { name, ...rest } = item as Record<string, unknown>;
      return typeof name === 'string'
        ? [name, rest]
        : fail(`profiles[${index}].name must be a string`);
    });
  }
  if (typeof list === 'object' && list !== null) {
    const entries = Object.entries(list as Record<string, unknown>);
    if (entries.length > 0) return entries;
  }
  return fail('expected a non-empty `profiles` map (or list of entries with a `name`)');
}

function toInit(
  name: string,
  entry: HermesProfileFileEntry,
  defaults: HermesDefaults,
  baseDir: string,
): HermesProfileInit {
  const command = entry.cleanupCommand;
  return {
    name,
    baseUrl: entry.url,
    apiKey: entry.apiKey,
    contextLength: entry.contextLength ?? defaults.contextLength,
    defaultModel: entry.model,
    home: entry.home ? resolve(baseDir, entry.home) : undefined,
    cleanupCommand:
      command && command.includes('/') && !isAbsolute(command)
        ? resolve(baseDir, command)
        : command,
  };
}

const KNOWN_FIELDS = 'url, apiKey, contextLength, model, home, cleanupCommand';

function describe(at: string, error: ValidationError): string {
  if (error.constraints?.['whitelistValidation']) {
    return `${at}.${error.property} is not a known field (known: ${KNOWN_FIELDS})`;
  }
  const rules = Object.values(error.constraints ?? {}).map((rule) =>
    rule.startsWith(`${error.property} `) ? rule.slice(error.property.length + 1) : rule,
  );
  // Never echo a key back, not even an invalid one.
  const got = error.property === 'apiKey' ? '' : ` (got ${JSON.stringify(error.value)})`;
  return `${at}.${error.property} ${rules.join(', ')}${got}`;
}
