import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormatSetting = (typeof LOG_FORMATS)[number];
/** The format lines are written in, once `auto` is decided. */
export type LogFormat = Exclude<LogFormatSetting, 'auto'>;

const METRICS_ACCESS = ['token', 'public', 'off'] as const;
export type MetricsAccess = (typeof METRICS_ACCESS)[number];

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))
    ? Number(value)
    : value;

/**
 * Every environment variable the gateway reads, with its default and its rule. Empty values
 * are removed before validation (see `validateEnvironment`), so `FOO=` means "use the default".
 * This class is the only place that knows about `process.env`; the rest of the app
 * reads the typed sections of {@link AppConfig}.
 */
export class EnvironmentVariables {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 8648;

  @IsString()
  HOST: string = '127.0.0.1';

  @IsString()
  DATA_DIR: string = './data';

  /** `postgres://…` selects PostgreSQL; `sqlite:<path>` or unset selects SQLite. */
  @IsOptional()
  @Matches(/^(postgres(ql)?:\/\/.+|sqlite:.+)$/, {
    message: 'must be a postgres:// URL or sqlite:<file path>',
  })
  DATABASE_URL?: string;

  /** PostgreSQL schema for the gateway's tables (tests give each run its own). */
  @IsOptional()
  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'must be a lower-case SQL identifier' })
  DATABASE_SCHEMA?: string;

  /**
   * SQLite's `synchronous` in WAL mode. NORMAL loses nothing when the process dies (SIGKILL
   * included); only a power cut or OS crash may undo the last commits. FULL also survives those,
   * at an fsync per commit (about 2 ms each here, several per run start).
   */
  @IsIn(['NORMAL', 'FULL'])
  SQLITE_SYNCHRONOUS: 'NORMAL' | 'FULL' = 'NORMAL';

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  AUTH_TOKEN?: string;

  /** Only `true` or `1` disables auth; any other value keeps it on. */
  @IsOptional()
  @IsString()
  AUTH_DISABLED?: string;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /**
   * `json`: one JSON object per line, for log collectors. `pretty`: readable, for a terminal.
   * `auto`: pretty when stdout is a terminal, JSON otherwise (a pipe, a file, a container's log).
   */
  @IsIn(LOG_FORMATS)
  LOG_FORMAT: LogFormatSetting = 'auto';

  /** Comma-separated list of allowed origins, or `*`. Unset: same-origin only. */
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;

  // --- Hermes upstream (the `default` profile; more profiles in HERMES_PROFILES_FILE) ---

  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  HERMES_URL: string = 'http://127.0.0.1:8642';

  @IsOptional()
  @IsString()
  HERMES_API_KEY?: string;

  /** JSON or YAML file describing named profiles. */
  @IsOptional()
  @IsString()
  HERMES_PROFILES_FILE?: string;

  @IsOptional()
  @IsString()
  HERMES_MODEL?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  HERMES_CONTEXT_LENGTH: number = 128000;

  /** Optional Hermes home directory (state.db and session cleanup) for the default profile. */
  @IsOptional()
  @IsString()
  HERMES_HOME?: string;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  HERMES_REQUEST_TIMEOUT_MS: number = 15000;

  /** An event stream silent (no data, no keepalive) for this long is treated as lost. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  HERMES_STREAM_IDLE_TIMEOUT_MS: number = 90000;

  // --- Chat runs ---

  @Transform(toInt)
  @IsInt()
  @Min(1)
  MAX_INPUT_BYTES: number = 512 * 1024;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  ABORT_GRACE_MS: number = 5000;

  /** Server system prompt, sent before the client's instructions on every run. */
  @IsOptional()
  @IsString()
  SYSTEM_PROMPT?: string;

  /** How often the status of a run whose stream was lost is polled. */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  RUN_STATUS_POLL_MS: number = 1000;

  /** How long a run whose stream was lost is followed through the status endpoint. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  RUN_RECOVERY_TIMEOUT_MS: number = 60 * 60 * 1000;

  /**
   * A run whose upstream cannot be reached at all (connection refused or reset, timeouts, 5xx)
   * for this long ends with `upstream_unavailable`.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  UPSTREAM_UNAVAILABLE_MS: number = 60 * 1000;

  /** Any run still going after this long ends with `run_timeout` (its partial reply is kept). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  RUN_MAX_DURATION_MS: number = 60 * 60 * 1000;

  /** A session with no run, no client and no activity for this long is dropped from memory. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  SESSION_IDLE_MS: number = 5 * 60 * 1000;

  /** Events kept per session for exact replay, besides those of the active run. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  EVENT_LOG_WINDOW: number = 2000;

  /** Fraction of the context length above which the history is summarised. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0.05)
  @Max(0.95)
  COMPRESSION_THRESHOLD: number = 0.5;

  /** Share of the trigger (threshold × context length) kept verbatim as the newest turns. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0)
  @Max(0.4)
  COMPRESSION_TAIL_FRACTION: number = 0.25;

  /** Share of the trigger a summary may take; a longer one is cut at this many tokens. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0.02)
  @Max(0.25)
  COMPRESSION_SUMMARY_FRACTION: number = 0.15;

  /** How long one summariser run may take before the run goes ahead without it. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  COMPRESSION_TIMEOUT_MS: number = 120000;

  // --- Several instances (all optional; unset: one process serves everything) ---

  /**
   * Turns multi-instance mode on: rooms and cross-instance requests go through this Redis, and
   * runs are owned through leases in the database (which must then be PostgreSQL).
   */
  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Every Redis key and channel of this deployment starts with it (deployments can share a Redis). */
  @Matches(/^[A-Za-z0-9:_.-]{1,64}$/, { message: 'must be 1–64 of A-Z a-z 0-9 : _ . -' })
  REDIS_KEY_PREFIX: string = 'hermes-gateway:';

  /**
   * How long an instance's hold on a session (and its runs) lasts without renewal: an instance that
   * dies has its runs taken over by another within about this long.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(10 * 60 * 1000)
  RUN_LEASE_MS: number = 15_000;

  // --- Operations ---

  /** Who may scrape `/metrics`: `token` (METRICS_TOKEN, else the API token), `public`, `off`. */
  @IsIn(METRICS_ACCESS)
  METRICS: MetricsAccess = 'token';

  /** A bearer token for the scraper alone; unset, `/metrics` takes the API's token. */
  @IsOptional()
  @IsString()
  @MinLength(16)
  METRICS_TOKEN?: string;

  // --- Limits: what one client, session or request may cost ---

  /** Largest Socket.IO frame (or polling body) a connection may send before it authenticates. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  SOCKET_UNAUTHENTICATED_MAX_BYTES: number = 16 * 1024;

  /** A connection that has not completed an authenticated namespace connection by then is closed. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  SOCKET_AUTH_TIMEOUT_MS: number = 10000;

  /** Client events a socket may send per second, sustained. */
  @Transform(toNumber)
  @IsNumber()
  @Min(0.01)
  SOCKET_EVENTS_PER_SECOND: number = 20;

  /** Client events a socket may send at once, above the sustained rate. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  SOCKET_EVENT_BURST: number = 40;

  /** Rate-limited events (forgiven at the sustained rate) after which a socket is disconnected. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  SOCKET_FLOOD_DISCONNECT: number = 100;

  /** Bytes waiting to be sent to a socket above which it must keep reading (see SOCKET_SEND_STALL_MS). */
  @Transform(toInt)
  @IsInt()
  @Min(16 * 1024)
  SOCKET_MAX_BUFFERED_BYTES: number = 1024 * 1024;

  /** A socket over SOCKET_MAX_BUFFERED_BYTES whose backlog has not shrunk for this long is dropped. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  SOCKET_SEND_STALL_MS: number = 5000;

  /** Deepest nesting of arrays and objects accepted in a REST body or a socket message. */
  @Transform(toInt)
  @IsInt()
  @Min(4)
  @Max(1000)
  MAX_JSON_DEPTH: number = 32;

  /** Largest REST request body. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  HTTP_MAX_BODY_BYTES: number = 1024 * 1024;

  /** Runs waiting in one session's queue (besides the active one). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  MAX_QUEUE_LENGTH: number = 50;

  /** Session-less runs going on at once, over the whole server. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  MAX_SESSIONLESS_RUNS: number = 32;
}

export const LOG_LEVEL_VALUES = LOG_LEVELS;
