import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { isAbsolute, join, resolve } from 'node:path';
import {
  EnvironmentVariables,
  LogFormat,
  LogFormatSetting,
  LogLevel,
  MetricsAccess,
} from './environment';
import { VALIDATED_ENV_KEY } from './validate-environment';

export interface HttpSettings {
  port: number;
  host: string;
  /** `true` reflects any origin; an empty list allows none (same-origin only). */
  corsOrigins: string[] | true;
  /** Largest request body; a larger one is answered 413 before it is read. */
  maxBodyBytes: number;
  /** Deepest JSON nesting of a request body; a deeper one is answered 400 before it is parsed. */
  maxJsonDepth: number;
}

/** The variable an operator set a value with, for messages that tell them which one to fix. */
export interface SettingSource {
  name: string;
  value: string;
}

export type DatabaseSettings =
  | {
      type: 'sqlite';
      path: string;
      synchronous: 'NORMAL' | 'FULL';
      /** `DATA_DIR` (the default file in it) or `DATABASE_URL` (`sqlite:<path>`). */
      setting: SettingSource;
    }
  | { type: 'postgres'; url: string; schema?: string };

export interface AuthSettings {
  disabled: boolean;
  /** Unset: a token is generated and kept in {@link tokenFile}. */
  token?: string;
  tokenFile: string;
}

export interface HermesDefaults {
  url: string;
  apiKey?: string;
  profilesFile?: string;
  model?: string;
  contextLength: number;
  home?: string;
  requestTimeoutMs: number;
  streamIdleTimeoutMs: number;
}

/** Context compression; every fraction is of the context length of the run's profile. */
export interface CompressionSettings {
  /** Above `threshold × contextLength` tokens (the trigger), older turns are summarised. */
  threshold: number;
  /** Newest turns kept verbatim, as a share of the trigger. */
  tailFraction: number;
  /** Most a summary may take, as a share of the trigger. */
  summaryFraction: number;
  timeoutMs: number;
}

/** Multi-instance mode (`REDIS_URL`); absent when one process serves everything. */
export interface ClusterSettings {
  redisUrl: string;
  keyPrefix: string;
  leaseMs: number;
}

export interface MetricsSettings {
  access: MetricsAccess;
  /** Set: the only token `/metrics` takes (in `token` access). */
  token?: string;
}

export interface ChatRunSettings {
  maxInputBytes: number;
  abortGraceMs: number;
  systemPrompt: string;
  statusPollMs: number;
  recoveryTimeoutMs: number;
  upstreamUnavailableMs: number;
  maxRunDurationMs: number;
  eventLogWindow: number;
  sessionIdleMs: number;
  /** Runs one session may have waiting. */
  maxQueueLength: number;
  /** Session-less runs going on at once, over the whole server. */
  maxSessionlessRuns: number;
}

/** What one Socket.IO connection may cost the server. */
export interface SocketSettings {
  /** Frame (or polling body) bound until the connection has authenticated. */
  unauthenticatedMaxBytes: number;
  /** Time a connection has to complete an authenticated namespace connection. */
  authTimeoutMs: number;
  /** Client events per second, sustained, and how many may come at once. */
  eventsPerSecond: number;
  eventBurst: number;
  /** Rate-limited events (forgiven at the sustained rate) that get a socket disconnected. */
  floodDisconnectAfter: number;
  /** Bytes waiting to be sent above which the socket must keep reading... */
  maxBufferedBytes: number;
  /** ...and how long its backlog may go without shrinking before it is dropped. */
  sendStallMs: number;
  /** Deepest JSON nesting of a message (its argument list counts as one level). */
  maxJsonDepth: number;
}

/** `auto` decided: a person at a terminal reads pretty lines, anything else gets JSON. */
export function resolveLogFormat(setting: LogFormatSetting, terminal: boolean): LogFormat {
  if (setting !== 'auto') return setting;
  return terminal ? 'pretty' : 'json';
}

/**
 * Typed, read-only view of the validated environment, one section per concern.
 * Inject this instead of `ConfigService` so that names and types live in one place.
 */
@Injectable()
export class AppConfig {
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly http: HttpSettings;
  readonly database: DatabaseSettings;
  readonly auth: AuthSettings;
  readonly hermes: HermesDefaults;
  readonly chatRun: ChatRunSettings;
  readonly sockets: SocketSettings;
  readonly compression: CompressionSettings;
  readonly cluster: ClusterSettings | null;
  readonly metrics: MetricsSettings;

  constructor(config: ConfigService<{ [VALIDATED_ENV_KEY]: EnvironmentVariables }, true>) {
    const validated = config.get(VALIDATED_ENV_KEY, { infer: true });
    const env = <K extends keyof EnvironmentVariables>(key: K): EnvironmentVariables[K] =>
      validated[key];

    this.dataDir = resolve(env('DATA_DIR'));
    this.logLevel = env('LOG_LEVEL');
    this.logFormat = resolveLogFormat(env('LOG_FORMAT'), process.stdout.isTTY === true);
    this.http = {
      port: env('PORT'),
      host: env('HOST'),
      corsOrigins: parseOrigins(env('CORS_ORIGINS')),
      maxBodyBytes: env('HTTP_MAX_BODY_BYTES'),
      maxJsonDepth: env('MAX_JSON_DEPTH'),
    };
    this.database = parseDatabase(env, this.dataDir);
    this.auth = {
      disabled: ['true', '1'].includes((env('AUTH_DISABLED') ?? '').trim().toLowerCase()),
      token: env('AUTH_TOKEN'),
      tokenFile: join(this.dataDir, 'auth-token'),
    };
    this.hermes = {
      url: env('HERMES_URL'),
      apiKey: env('HERMES_API_KEY'),
      profilesFile: env('HERMES_PROFILES_FILE'),
      model: env('HERMES_MODEL'),
      contextLength: env('HERMES_CONTEXT_LENGTH'),
      home: env('HERMES_HOME'),
      requestTimeoutMs: env('HERMES_REQUEST_TIMEOUT_MS'),
      streamIdleTimeoutMs: env('HERMES_STREAM_IDLE_TIMEOUT_MS'),
    };
    this.chatRun = {
      maxInputBytes: env('MAX_INPUT_BYTES'),
      abortGraceMs: env('ABORT_GRACE_MS'),
      systemPrompt: env('SYSTEM_PROMPT') ?? '',
      statusPollMs: env('RUN_STATUS_POLL_MS'),
      recoveryTimeoutMs: env('RUN_RECOVERY_TIMEOUT_MS'),
      upstreamUnavailableMs: env('UPSTREAM_UNAVAILABLE_MS'),
      maxRunDurationMs: env('RUN_MAX_DURATION_MS'),
      eventLogWindow: env('EVENT_LOG_WINDOW'),
      sessionIdleMs: env('SESSION_IDLE_MS'),
      maxQueueLength: env('MAX_QUEUE_LENGTH'),
      maxSessionlessRuns: env('MAX_SESSIONLESS_RUNS'),
    };
    this.sockets = {
      unauthenticatedMaxBytes: env('SOCKET_UNAUTHENTICATED_MAX_BYTES'),
      authTimeoutMs: env('SOCKET_AUTH_TIMEOUT_MS'),
      eventsPerSecond: env('SOCKET_EVENTS_PER_SECOND'),
      eventBurst: env('SOCKET_EVENT_BURST'),
      floodDisconnectAfter: env('SOCKET_FLOOD_DISCONNECT'),
      maxBufferedBytes: env('SOCKET_MAX_BUFFERED_BYTES'),
      sendStallMs: env('SOCKET_SEND_STALL_MS'),
      maxJsonDepth: env('MAX_JSON_DEPTH'),
    };
    this.compression = {
      threshold: env('COMPRESSION_THRESHOLD'),
      tailFraction: env('COMPRESSION_TAIL_FRACTION'),
      summaryFraction: env('COMPRESSION_SUMMARY_FRACTION'),
      timeoutMs: env('COMPRESSION_TIMEOUT_MS'),
    };
    const redisUrl = env('REDIS_URL');
    this.cluster = redisUrl
      ? { redisUrl, keyPrefix: env('REDIS_KEY_PREFIX'), leaseMs: env('RUN_LEASE_MS') }
      : null;
    this.metrics = { access: env('METRICS'), token: env('METRICS_TOKEN') };
  }
}

function parseOrigins(raw: string | undefined): string[] | true {
  if (raw === undefined) return [];
  if (raw.trim() === '*') return true;
  return raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
}

function parseDatabase(
  env: <K extends keyof EnvironmentVariables>(key: K) => EnvironmentVariables[K],
  dataDir: string,
): DatabaseSettings {
  const url = env('DATABASE_URL');
  if (url?.startsWith('postgres')) return { type: 'postgres', url, schema: env('DATABASE_SCHEMA') };
  const file = url?.slice('sqlite:'.length) ?? 'gateway.sqlite';
  return {
    type: 'sqlite',
    path: isAbsolute(file) ? file : join(dataDir, file),
    synchronous: env('SQLITE_SYNCHRONOUS'),
    setting: url ? { name: 'DATABASE_URL', value: url } : { name: 'DATA_DIR', value: dataDir },
  };
}
