import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SessionsModule } from '../sessions/sessions.module';
import { RunUsageEntity } from './run-usage.entity';
import { UsageController } from './usage.controller';
import { UsageStore } from './usage.store';

/** Per-run token usage, the session totals it adds up to, and the usage REST API. */
@Module({
  imports: [TypeOrmModule.forFeature([RunUsageEntity]), SessionsModule],
  controllers: [UsageController],
  providers: [UsageStore],
  exports: [UsageStore],
})
export class UsageModule {}
