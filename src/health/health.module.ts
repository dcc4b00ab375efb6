import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HermesModule } from '../hermes/hermes.module';
import { RedisHealthIndicator } from '../cluster/redis.health';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), HermesModule],
  controllers: [HealthController],
  providers: [RedisHealthIndicator],
})
export class HealthModule {}
