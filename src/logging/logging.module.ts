import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AppLogger } from './app-logger.service';
import { RequestLogger } from './request-logger';
import { createRootLogger, ROOT_LOGGER } from './root-logger';

/**
 * Structured JSON logs (pino) with secrets redacted: one root logger, Nest's `Logger` over it
 * ({@link AppLogger}, installed by `configureApp`) and the request logger ({@link RequestLogger},
 * mounted by `configureApp` before every other middleware).
 */
@Module({
  providers: [
    {
      provide: ROOT_LOGGER,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createRootLogger(config),
    },
    AppLogger,
    RequestLogger,
  ],
  exports: [ROOT_LOGGER, AppLogger, RequestLogger],
})
export class LoggingModule {}
