import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisConnection } from './redis.connection';
import { SessionLeases } from './session-leases';

/**
 * What several instances share beyond the database: Redis (Socket.IO's adapter and requests
 * between instances) and the leases through which each session has one holder. With one
 * instance (no `REDIS_URL`) there is no Redis connection and every session is this instance's.
 */
@Global()
@Module({
  providers: [
    {
      provide: RedisConnection,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => RedisConnection.open(config.cluster),
    },
    SessionLeases,
  ],
  exports: [RedisConnection, SessionLeases],
})
export class ClusterModule {}
