import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { InvalidEnvironmentError } from './config/validate-environment';
import { listeningLine } from './startup/listening-line';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(), {
    // Logs wait for pino (configureApp); a startup failure is reported once, below,
    // instead of by Nest's own logger and abort().
    bufferLogs: true,
    logger: false,
    abortOnError: false,
  });
  const config = configureApp(app);
  await app.listen(config.http.port, config.http.host);
  const url = await app.getUrl();
  new Logger('Bootstrap').log(listeningLine(url, config));
}

bootstrap().catch((error: unknown) => {
  // A configuration mistake is one clear line, not a stack trace.
  if (error instanceof InvalidEnvironmentError) console.error(error.message);
  else console.error('Startup failed:', error);
  process.exit(1);
});
