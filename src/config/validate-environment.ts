import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { EnvironmentVariables } from './environment';

/** The key under which the validated environment is kept in @nestjs/config. */
export const VALIDATED_ENV_KEY = 'gateway';

/** Thrown when the environment breaks a rule; the message names every offending variable. */
export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'InvalidEnvironmentError';
  }
}

/** Values of these variables are secrets: a rejected one is never echoed into logs. */
const SECRET = /(TOKEN|KEY|PASSWORD|SECRET)/;

const describe = (error: ValidationError): string => {
  const rules = Object.values(error.constraints ?? {}).map((rule) =>
    // class-validator messages start with the property name; say it once.
    rule.startsWith(`${error.property} `) ? rule.slice(error.property.length + 1) : rule,
  );
  const got = SECRET.test(error.property) ? 'value hidden' : `got ${JSON.stringify(error.value)}`;
  return `${error.property} ${rules.join(', ')} (${got})`;
};

/** The `validate` hook of `ConfigModule.forRoot`: raw env in, typed and defaulted env out. */
export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  // Empty values count as unset: class-transformer only applies a default to a missing key.
  const present = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => !(typeof value === 'string' && value.trim() === '')),
  );
  const env = plainToInstance(EnvironmentVariables, present, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) throw new InvalidEnvironmentError(errors.map(describe));
  if (env.REDIS_URL && !env.DATABASE_URL?.startsWith('postgres')) {
    throw new InvalidEnvironmentError([
      'REDIS_URL (several instances) needs PostgreSQL: set DATABASE_URL to a postgres:// URL',
    ]);
  }
  return env;
}
