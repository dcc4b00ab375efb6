import { Module } from '@nestjs/common';
import { CompressionModule } from '../compression/compression.module';
import { AppConfig } from '../config/app-config';
import { HermesModule } from '../hermes/hermes.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsageModule } from '../usage/usage.module';
import { ChatHandshake } from './chat-handshake';
import { RoomInterest } from './cluster/room-interest';
import { RoomSequencer } from './cluster/room-sequencer';
import { ChatRunGateway } from './chat-run.gateway';
import { ChatRunLifecycle } from './chat-run.lifecycle';
import { SocketLimits } from './connection/socket-limits';
import { EventLogModule } from './event-log/event-log.module';
import { ResumeService } from './resume.service';
import { RunCaps } from './run-caps';
import { RunMetrics } from './runs/run-metrics';
import { RunLedger } from './runs/run-ledger';
import { RunPipelines } from './runs/run-pipelines';
import { RunQueueService } from './runs/run-queue.service';
import { RunStatusFollower } from './runs/run-status-follower';
import { RunStore } from './runs/run.store';
import { StoredRunDeps } from './runs/stored-run-recorder';
import { SessionRuntimes } from './runtime/session-runtimes';
import { SessionEmitter } from './session-emitter';
import { SessionRequests } from './session-requests';

/** The `/chat-run` Socket.IO namespace: runs, queue, abort, resume and replay. */
@Module({
  imports: [SessionsModule, HermesModule, EventLogModule, CompressionModule, UsageModule],
  providers: [
    ChatHandshake,
    ChatRunGateway,
    ChatRunLifecycle,
    ResumeService,
    RoomInterest,
    RoomSequencer,
    RunLedger,
    {
      provide: RunCaps,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new RunCaps(config.chatRun),
    },
    RunMetrics,
    RunPipelines,
    RunQueueService,
    RunStatusFollower,
    RunStore,
    SessionEmitter,
    SessionRequests,
    SessionRuntimes,
    SocketLimits,
    StoredRunDeps,
  ],
})
export class ChatRunModule {}
