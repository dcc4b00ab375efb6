import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppError } from '../errors/app-error';
import { AuthTokenService } from './auth-token.service';
import { IS_PUBLIC } from './public.decorator';

/** Global guard for REST routes: `Authorization: Bearer <token>` unless the route is public. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly tokens: AuthTokenService,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<Request>();
    if (this.tokens.verify(AuthTokenService.bearer(request.headers.authorization))) return true;
    throw new AppError('unauthorized', 'Missing or invalid bearer token', HttpStatus.UNAUTHORIZED);
  }
}
