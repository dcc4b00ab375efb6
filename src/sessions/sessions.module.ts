import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TokenCounterModule } from '../tokens/token-counter.module';
import { MessageEntity } from './message.entity';
import { SessionEntity } from './session.entity';
import { SessionRepository } from './session.repository';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';
import { TranscriptStore } from './transcript.store';
import { TypeOrmSessionRepository } from './typeorm-session.repository';

@Module({
  imports: [TypeOrmModule.forFeature([SessionEntity, MessageEntity]), TokenCounterModule],
  controllers: [SessionsController],
  providers: [
    SessionsService,
    TranscriptStore,
    { provide: SessionRepository, useClass: TypeOrmSessionRepository },
  ],
  exports: [SessionRepository, SessionsService, TranscriptStore],
})
export class SessionsModule {}
