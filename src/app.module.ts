import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ChatRunModule } from './chat-run/chat-run.module';
import { ClusterModule } from './cluster/cluster.module';
import { AuthModule } from './common/auth/auth.module';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { RequestValidationPipe } from './common/validation/request-validation.pipe';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { ReferenceApiModule } from './reference-api/reference-api.module';
import { SessionsModule } from './sessions/sessions.module';
import { UsageModule } from './usage/usage.module';

@Module({})
export class AppModule {
  /** `env` overrides the process environment (tests and tools boot several apps at once). */
  static forRoot(env: Record<string, string | undefined> = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(env),
        LoggingModule,
        MetricsModule,
        DatabaseModule,
        ClusterModule,
        AuthModule,
        HealthModule,
        SessionsModule,
        UsageModule,
        ChatRunModule,
        ReferenceApiModule,
      ],
      providers: [
        {
          provide: APP_PIPE,
          useValue: new RequestValidationPipe(),
        },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
