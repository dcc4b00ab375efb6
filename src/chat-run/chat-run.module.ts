import { Module } from '@nestjs/common';
import { CompressionModule } from '../compression/compression.module';
import { HermesModule } from '../hermes/hermes.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsageModule } from '../usage/usage.module';
import { ChatRunGateway } from './chat-run.gateway';
import { ChatRunLifecycle } from './chat-run.lifecycle';
import { EventLogModule } from './event-log/event-log.module';
import { ResumeService } from './resume.service';
import { RunExecutor } from './runs/run-executor';
import { RunFinisher } from './runs/run-finisher';
import { RunQueueService } from './runs/run-queue.service';
import { RunStatusFollower } from './runs/run-status-follower';
import { RunStore } from './runs/run.store';
import { SessionlessRunner } from './runs/sessionless-runner';
import { SessionRuntimes } from './runtime/session-runtimes';
import { SessionEmitter } from './session-emitter';

/** The `/chat-run` Socket.IO namespace: runs, queue, abort, resume and replay. */
@Module({
  imports: [SessionsModule, HermesModule, EventLogModule, CompressionModule, UsageModule],
  providers: [
    ChatRunGateway,
    ChatRunLifecycle,
    RunQueueService,
    RunExecutor,
    RunFinisher,
    RunStatusFollower,
    RunStore,
    ResumeService,
    SessionEmitter,
    SessionRuntimes,
    SessionlessRunner,
  ],
})
export class ChatRunModule {}
