import { Module } from '@nestjs/common';
import { TokenCounterModule } from '../tokens/token-counter.module';
import { SessionRepository } from './session.repository';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';
import { TranscriptStore } from './transcript.store';
import { TypeOrmSessionRepository } from './typeorm-session.repository';

@Module({
  imports: [TokenCounterModule],
  controllers: [SessionsController],
  providers: [
    SessionsService,
    TranscriptStore,
    { provide: SessionRepository, useClass: TypeOrmSessionRepository },
  ],
  exports: [SessionRepository, SessionsService, TranscriptStore],
})
export class SessionsModule {}
