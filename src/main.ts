import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { InvalidEnvironmentError } from './config/validate-environment';
import { HermesStartupCheck } from './hermes/hermes-startup-check';
import { assertCanListen, listenFailure } from './startup/listen-check';
import { listeningLine } from './startup/listening-line';
import { StartupError } from './startup/startup-error';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(), {
    // Logs wait for pino (configureApp); a startup failure is reported once, below,
    // instead of by Nest's own logger and abort().
    bufferLogs: true,
    logger: false,
    abortOnError: false,
  });
  const config = configureApp(app);
  await assertCanListen(config.http);
  await app.listen(config.http.port, config.http.host).catch((error: unknown) => {
    throw listenFailure(config.http, error) ?? error;
  });
  const url = await app.getUrl();
  new Logger('Bootstrap').log(listeningLine(url, config));
  // Not awaited: a missing upstream is worth a warning, not a slower start.
  void app.get(HermesStartupCheck).warnIfUnreachable();
}

bootstrap().catch((error: unknown) => {
  // A configuration or environment mistake is one clear line naming the setting, not a stack.
  if (error instanceof InvalidEnvironmentError || error instanceof StartupError) {
    console.error(error.message);
  } else {
    console.error('Startup failed:', error);
  }
  process.exit(1);
});
