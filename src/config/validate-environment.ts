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

const describe = (error: ValidationError): string => {
  const rules = Object.values(error.constraints ?? {}).map((rule) =>
    // class-validator messages start with the property name; say it once.
    rule.startsWith(`${error.property} `) ? rule.slice(error.property.length + 1) : rule,
  );
  return `${error.property} ${rules.join(', ')} (got ${JSON.stringify(error.value)})`;
};

/** The `validate` hook of `ConfigModule.forRoot`: raw env in, typed and defaulted env out. */
export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  const env = plainToInstance(EnvironmentVariables, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) throw new InvalidEnvironmentError(errors.map(describe));
  return env;
}
