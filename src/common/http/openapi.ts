import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** A Swagger tag with the description the UI shows above its routes. */
export interface DocumentTag {
  name: string;
  description: string;
}

/**
 * Serves the OpenAPI document at `/api/docs-json` and the Swagger UI at `/api/docs`. The routes
 * describe themselves (controllers, DTOs and the Swagger CLI plugin); features with a tag of
 * their own pass its description here, so that this file knows no feature.
 */
export function documentApi(app: INestApplication, tags: readonly DocumentTag[] = []): void {
  const builder = new DocumentBuilder()
    .setTitle('Hermes Chat Gateway')
    .setDescription(
      'Sessions and transcripts of the chat gateway. Live runs use the Socket.IO namespace `/chat-run` (see the README).',
    )
    .setVersion('1')
    .addBearerAuth();
  for (const tag of tags) builder.addTag(tag.name, tag.description);
  const document = SwaggerModule.createDocument(app, builder.build());
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/docs-json',
    // A pasted bearer token survives a reload of the page.
    swaggerOptions: { persistAuthorization: true },
  });
}
