import { InvalidEnvironmentError, validateEnvironment } from './validate-environment';

/** Runs validation that is expected to fail and returns the error it threw. */
function invalid(raw: Record<string, string>): InvalidEnvironmentError {
  try {
    validateEnvironment(raw);
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe('validateEnvironment', () => {
  it('applies the documented defaults to an empty environment', () => {
    // toMatchObject: variables added later bring their own defaults without breaking this.
    expect(validateEnvironment({})).toMatchObject({
      PORT: 8648,
      HOST: '127.0.0.1',
      DATA_DIR: './data',
      DATABASE_URL: undefined,
      DATABASE_SCHEMA: undefined,
      AUTH_TOKEN: undefined,
      AUTH_DISABLED: undefined,
      LOG_LEVEL: 'info',
      CORS_ORIGINS: undefined,
      HERMES_URL: 'http://127.0.0.1:8642',
      HERMES_API_KEY: undefined,
      HERMES_PROFILES_FILE: undefined,
      HERMES_MODEL: undefined,
      HERMES_CONTEXT_LENGTH: 128000,
      HERMES_HOME: undefined,
      HERMES_REQUEST_TIMEOUT_MS: 15000,
      HERMES_STREAM_IDLE_TIMEOUT_MS: 90000,
      MAX_INPUT_BYTES: 512 * 1024,
      ABORT_GRACE_MS: 5000,
      COMPRESSION_THRESHOLD: 0.5,
      COMPRESSION_TAIL_FRACTION: 0.25,
      COMPRESSION_SUMMARY_FRACTION: 0.15,
      COMPRESSION_TIMEOUT_MS: 120000,
    });
  });

  it('ignores variables it does not know', () => {
    expect(validateEnvironment({ PATH: '/usr/bin', HOME: '/root' }).PORT).toBe(8648);
  });

  it('treats empty and blank optional variables as unset', () => {
    const env = validateEnvironment({
      AUTH_TOKEN: '',
      DATABASE_URL: '  ',
      DATABASE_SCHEMA: '',
      CORS_ORIGINS: '',
      HERMES_API_KEY: ' ',
    });
    expect(env.AUTH_TOKEN).toBeUndefined();
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.DATABASE_SCHEMA).toBeUndefined();
    expect(env.CORS_ORIGINS).toBeUndefined();
    expect(env.HERMES_API_KEY).toBeUndefined();
  });

  it('converts numeric strings to numbers', () => {
    const env = validateEnvironment({
      PORT: '9000',
      HERMES_CONTEXT_LENGTH: ' 4096 ',
      ABORT_GRACE_MS: '0',
      COMPRESSION_THRESHOLD: '0.75',
    });
    expect(env.PORT).toBe(9000);
    expect(env.HERMES_CONTEXT_LENGTH).toBe(4096);
    expect(env.ABORT_GRACE_MS).toBe(0);
    expect(env.COMPRESSION_THRESHOLD).toBe(0.75);
  });

  it('keeps valid strings as given', () => {
    const env = validateEnvironment({
      HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
      DATABASE_URL: 'postgresql://gw:pw@db:5432/gw',
      DATABASE_SCHEMA: 'gw_test_1',
      AUTH_TOKEN: 'a'.repeat(16),
      HERMES_URL: 'https://hermes.internal:8642/v1',
    });
    expect(env).toMatchObject({
      HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
      DATABASE_URL: 'postgresql://gw:pw@db:5432/gw',
      DATABASE_SCHEMA: 'gw_test_1',
      AUTH_TOKEN: 'a'.repeat(16),
      HERMES_URL: 'https://hermes.internal:8642/v1',
    });
  });

  it('accepts sqlite:<path> database URLs', () => {
    expect(validateEnvironment({ DATABASE_URL: 'sqlite:gw.db' }).DATABASE_URL).toBe('sqlite:gw.db');
  });

  it('reports every offending variable with its rule in one error', () => {
    const error = invalid({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'mysql://x',
      AUTH_TOKEN: 'short',
      COMPRESSION_THRESHOLD: '2',
    });
    expect(error.name).toBe('InvalidEnvironmentError');
    expect(error.problems).toHaveLength(5);
    expect(error.message).toMatch(/PORT [^;]*must be an integer number/);
    expect(error.message).toMatch(/LOG_LEVEL must be one of the following values: fatal, error/);
    expect(error.message).toMatch(
      /DATABASE_URL must be a postgres:\/\/ URL or sqlite:<file path> \(got "mysql:\/\/x"\)/,
    );
    expect(error.message).toMatch(/AUTH_TOKEN must be at least 16 characters/);
    expect(error.message).toMatch(/COMPRESSION_THRESHOLD must not be greater than 0.95/);
  });

  it.each([
    ['PORT', '70000', /PORT must not be greater than 65535/],
    ['PORT', '-1', /PORT must not be less than 0/],
    ['PORT', '80.5', /PORT [^;]*must be an integer number/],
    ['COMPRESSION_THRESHOLD', '0.01', /COMPRESSION_THRESHOLD must not be less than 0.05/],
    ['COMPRESSION_THRESHOLD', 'half', /COMPRESSION_THRESHOLD [^;]*must be a number/],
    ['HERMES_CONTEXT_LENGTH', '512', /HERMES_CONTEXT_LENGTH must not be less than 1024/],
    ['HERMES_URL', 'ftp://hermes', /HERMES_URL must be a URL address/],
    ['HERMES_URL', '127.0.0.1:8642', /HERMES_URL must be a URL address/],
    ['DATABASE_SCHEMA', 'Bad-Schema', /DATABASE_SCHEMA must be a lower-case SQL identifier/],
    ['DATABASE_URL', 'sqlite:', /DATABASE_URL must be a postgres/],
  ])('rejects %s=%s', (name, value, rule) => {
    const error = invalid({ [name]: value });
    expect(error.problems).toHaveLength(1);
    expect(error.message).toMatch(rule);
  });
});
