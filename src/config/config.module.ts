import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';
import { VALIDATED_ENV_KEY, validateEnvironment } from './validate-environment';

/**
 * Loads and validates the environment once, at startup, and shares {@link AppConfig}.
 *
 * `overrides` lets tests and tools boot several apps in one process with different settings;
 * the validated values are kept under one key so that @nestjs/config does not copy them back
 * into `process.env`, where they would leak from one app to the next.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(overrides: Record<string, string | undefined> = {}): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          // The environment is the configuration: a stray .env file must not change a deployment.
          ignoreEnvFile: true,
          ignoreEnvVars: true,
          skipProcessEnv: true,
          cache: true,
          validate: () => ({
            [VALIDATED_ENV_KEY]: validateEnvironment({ ...process.env, ...overrides }),
          }),
        }),
      ],
      providers: [AppConfig],
      exports: [AppConfig],
    };
  }
}
