import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsGuard } from './metrics.guard';
import { MetricsRegistry } from './metrics.registry';

/**
 * The registry every feature defines its metrics in (global, needs nothing: a feature module
 * tested alone imports {@link MetricsRegistryModule}).
 */
@Global()
@Module({ providers: [MetricsRegistry], exports: [MetricsRegistry] })
export class MetricsRegistryModule {}

/** `/metrics` (needs the global AuthModule for its default access rule). */
@Module({
  imports: [MetricsRegistryModule],
  controllers: [MetricsController],
  providers: [MetricsGuard],
})
export class MetricsModule {}
