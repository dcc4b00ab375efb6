import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ChatIoAdapter } from './chat-run/chat-io.adapter';
import { bodyParsers } from './common/http/request-body';
import { AppConfig } from './config/app-config';
import { serveConsole } from './console/console';
import { AppLogger } from './logging/app-logger.service';
import { REQUEST_ID_HEADER } from './logging/request-id';
import { RequestLogger } from './logging/request-logger';
import { REFERENCE_API_TAG } from './reference-api/reference-api.decorators';

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

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Hermes Chat Gateway')
      .setDescription(
        'Sessions and transcripts of the chat gateway. Live runs use the Socket.IO namespace `/chat-run` (see the README).',
      )
      .setVersion('1')
      .addTag(
        REFERENCE_API_TAG,
        'The session and usage routes of the hermes-studio web client (EKKOLearnAI/hermes-studio), ' +
          'in its shapes, so that it works against this gateway unchanged. Same data and bearer ' +
          'token as `/api/sessions`; figures the gateway does not keep (costs, billing) are neutral.',
      )
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  return config;
}
