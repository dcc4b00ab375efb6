import { CanActivate, ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppError } from '../errors/app-error';
import { AuthTokenService } from './auth-token.service';
import { IS_PUBLIC } from './public.decorator';
import { ACCEPTS_QUERY_TOKEN } from './query-token.decorator';

/**
 * Global guard for REST routes: `Authorization: Bearer <token>` unless the route is public; a
 * route marked `@AcceptsQueryToken()` also takes it as `?token=` when the header is absent.
 */
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
    const header = request.headers.authorization;
    const token =
      header === undefined && this.reflector.get<boolean>(ACCEPTS_QUERY_TOKEN, context.getHandler())
        ? queryToken(request)
        : AuthTokenService.bearer(header);
    if (this.tokens.verify(token)) return true;
    throw new AppError('unauthorized', 'Missing or invalid bearer token', HttpStatus.UNAUTHORIZED);
  }
}

function queryToken(request: Request): string | undefined {
  const value: unknown = (request.query as Record<string, unknown> | undefined)?.token;
  return typeof value === 'string' ? value : undefined;
}
