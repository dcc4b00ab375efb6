import { Module } from '@nestjs/common';

/** Per-run token usage records and the usage statistics API; see the compression/usage issue. */
@Module({})
export class UsageModule {}
