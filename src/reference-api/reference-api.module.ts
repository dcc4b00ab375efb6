import { Module } from '@nestjs/common';
import { HermesModule } from '../hermes/hermes.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsageModule } from '../usage/usage.module';
import { ReferenceSessionsController } from './reference-sessions.controller';
import { ReferenceSessionsService } from './reference-sessions.service';
import { ReferenceUsageController } from './reference-usage.controller';

/**
 * The session and usage routes of the hermes-studio web client (EKKOLearnAI/hermes-studio), under
 * `/api/hermes/...` in that client's shapes, so it works against the gateway unchanged. A thin
 * adapter: every figure comes from the sessions, usage and Hermes profile services.
 */
@Module({
  imports: [SessionsModule, UsageModule, HermesModule],
  // The usage controller first: its fixed `sessions/...` paths must precede `sessions/:id`.
  controllers: [ReferenceUsageController, ReferenceSessionsController],
  providers: [ReferenceSessionsService],
})
export class ReferenceApiModule {}
