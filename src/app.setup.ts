import type { NestExpressApplication } from '@nestjs/platform-express';
import { ChatIoAdapter } from './chat-run/chat-io.adapter';
import { documentApi } from './common/http/openapi';
import { bodyParsers } from './common/http/request-body';
import { AppConfig } from './config/app-config';
import { serveConsole } from './console/console';
import { AppLogger } from './logging/app-logger.service';
import { REQUEST_ID_HEADER } from './logging/request-id';
import { RequestLogger } from './logging/request-logger';
import { REFERENCE_API_DOC_TAG } from './reference-api/reference-api.decorators';

/** Everything `main.ts` does to the app besides listening, shared with the e2e tests. */
export function configureApp(app: NestExpressApplication): AppConfig {
  const config = app.get(AppConfig);
  app.useLogger(app.get(AppLogger));
  app.flushLogs();
  // First, so that every answer (a console file, a body refused before routing) has its
  // request id and its log line.
  app.use(app.get(RequestLogger).handler);
  // Prometheus expects /metrics; everything else is under /api.
  app.setGlobalPrefix('api', { exclude: ['metrics'] });
  serveConsole(app);
  app.enableCors({
    origin: config.http.corsOrigins,
    credentials: false,
    exposedHeaders: [REQUEST_ID_HEADER],
  });
  for (const parser of bodyParsers(config.http)) app.use(parser);
  app.useWebSocketAdapter(new ChatIoAdapter(app));
  // Only the signals that mean "stop": Nest's default list would also end the server on
  // SIGUSR2, SIGHUP and others.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  app.disable('x-powered-by');

  documentApi(app, [REFERENCE_API_DOC_TAG]);
  return config;
}
