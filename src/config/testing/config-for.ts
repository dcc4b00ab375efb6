import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../app-config';
import { VALIDATED_ENV_KEY, validateEnvironment } from '../validate-environment';

/**
 * For unit specs: the `AppConfig` a process with exactly these variables would get, over a
 * ConfigService holding only what AppConfigModule stores (the validated environment).
 */
export function configFor(raw: Record<string, string> = {}): AppConfig {
  return new AppConfig(new ConfigService({ [VALIDATED_ENV_KEY]: validateEnvironment(raw) }));
}
