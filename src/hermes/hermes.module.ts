import { Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HermesClient } from './hermes.client';
import { HermesHealthIndicator } from './hermes.health';
import { HermesStartupCheck } from './hermes-startup-check';
import { HermesMetrics } from './hermes.metrics';
import { HermesProfiles } from './hermes-profiles';
import { EphemeralSessionCleanup } from './home/ephemeral-session-cleanup';
import { HermesCleanupTask } from './home/hermes-cleanup-task.entity';
import { HermesStateReader } from './home/hermes-state.reader';

/**
 * Everything that talks to the Hermes upstreams: profiles, the client (runs and their event
 * streams), the health indicator and the startup check, its metrics, and the optional home integration (state.db reads
 * and the cleanup of ephemeral upstream sessions). Needs `AppConfig` and `MetricsRegistry`
 * (global) and the TypeORM root with `HermesCleanupTask` among its entities.
 */
@Module({
  imports: [TypeOrmModule.forFeature([HermesCleanupTask])],
  providers: [
    HermesProfiles,
    HermesClient,
    HealthIndicatorService,
    HermesHealthIndicator,
    HermesStartupCheck,
    HermesMetrics,
    HermesStateReader,
    EphemeralSessionCleanup,
  ],
  exports: [
    HermesProfiles,
    HermesClient,
    HermesHealthIndicator,
    HermesStateReader,
    EphemeralSessionCleanup,
  ],
})
export class HermesModule {}
