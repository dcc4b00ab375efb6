import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A value that must never be printed: `JSON.stringify`, string conversion and `util.inspect`
 * (hence Nest's logger and pino) all show `[redacted]`. Only {@link reveal} gives the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

export interface HermesProfileInit {
  name: string;
  /** Base URL of the upstream, without a trailing slash. */
  baseUrl: string;
  apiKey?: string;
  contextLength: number;
  defaultModel?: string;
  /** The upstream's home directory (`state.db`, session cleanup); unset disables both. */
  home?: string;
  /** Executable run as `<cleanupCommand> sessions delete <id> --yes` with `HERMES_HOME=home`. */
  cleanupCommand?: string;
}

/** One named upstream. Safe to log: the API key is a {@link Secret}. */
export class HermesProfile {
  readonly name: string;
  readonly baseUrl: string;
  readonly apiKey?: Secret;
  readonly contextLength: number;
  readonly defaultModel?: string;
  readonly home?: string;
  readonly cleanupCommand: string;

  constructor(init: HermesProfileInit) {
    this.name = init.name;
    this.baseUrl = init.baseUrl.replace(/\/+$/, '');
    if (init.apiKey) this.apiKey = new Secret(init.apiKey);
    this.contextLength = init.contextLength;
    this.defaultModel = init.defaultModel;
    this.home = init.home;
    this.cleanupCommand = init.cleanupCommand ?? 'hermes';
  }

  /** Headers every upstream request carries (`Authorization` only when a key is configured). */
  authHeaders(): Record<string, string> {
    return this.apiKey ? { Authorization: `Bearer ${this.apiKey.reveal()}` } : {};
  }

  /** The base URL without any `user:password@` part, for logs and health output. */
  get displayUrl(): string {
    try {
      const url = new URL(this.baseUrl);
      url.username = '';
      url.password = '';
      return url.toString().replace(/\/+$/, '');
    } catch {
      return this.baseUrl;
    }
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      baseUrl: this.displayUrl,
      apiKey: this.apiKey ? REDACTED : undefined,
      contextLength: this.contextLength,
      defaultModel: this.defaultModel,
      home: this.home,
    };
  }

  [inspect.custom](): string {
    return `HermesProfile ${JSON.stringify(this.toJSON())}`;
  }
}
