import { Module } from '@nestjs/common';
import { HermesModule } from '../hermes/hermes.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsageModule } from '../usage/usage.module';
import { CompressionService } from './compression.service';
import { SnapshotStore } from './snapshot.store';
import { Summariser } from './summariser';
import { TokenCounterModule } from '../tokens/token-counter.module';

/** Context compression: the history decision before each run, snapshots and the summariser. */
@Module({
  imports: [SessionsModule, HermesModule, UsageModule, TokenCounterModule],
  providers: [CompressionService, SnapshotStore, Summariser],
  exports: [CompressionService],
})
export class CompressionModule {}
