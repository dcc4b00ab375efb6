import { Module } from '@nestjs/common';
import { TokenCounterModule } from '../compression/token-counter.module';
import { SessionRepository } from './session.repository';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';
import { TypeOrmSessionRepository } from './typeorm-session.repository';

@Module({
  imports: [TokenCounterModule],
  controllers: [SessionsController],
  providers: [SessionsService, { provide: SessionRepository, useClass: TypeOrmSessionRepository }],
  exports: [SessionRepository, SessionsService],
})
export class SessionsModule {}
