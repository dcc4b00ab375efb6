import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { ChatIoAdapter } from './chat-run/chat-io.adapter';
import { documentApi } from './common/http/openapi';
import { bodyParsers } from './common/http/request-body';
import { AppConfig } from './config/app-config';
import { serveConsole } from './console/console';
import { REFERENCE_API_DOC_TAG } from './reference-api/reference-api.decorators';

/** Everything `main.ts` does to the app besides listening, shared with the e2e tests. */
export function configureApp(app: NestExpressApplication): AppConfig {
  const config = app.get(AppConfig);
  app.useLogger(app.get(Logger));
  app.flushLogs();
  // Prometheus expects /metrics; everything else is under /api.
  app.setGlobalPrefix('api', { exclude: ['metrics'] });
  serveConsole(app);
  app.enableCors({ origin: config.http.corsOrigins, credentials: false });
  for (const parser of bodyParsers(config.http)) app.use(parser);
  app.useWebSocketAdapter(new ChatIoAdapter(app));
  // Only the signals that mean "stop": Nest's default list would also end the server on
  // SIGUSR2, SIGHUP and others.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  app.disable('x-powered-by');

  documentApi(app, [REFERENCE_API_DOC_TAG]);
  return config;
}
