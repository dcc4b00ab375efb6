import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { AuthTokenService } from './auth-token.service';

/** Token auth shared by the REST guard and (through AuthTokenService) the socket handshake. */
@Global()
@Module({
  providers: [AuthTokenService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthTokenService],
})
export class AuthModule {}
