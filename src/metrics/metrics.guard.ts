import { CanActivate, HttpStatus, Injectable } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AuthTokenService } from '../common/auth/auth-token.service';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { sameSecret } from '../common/auth/same-secret';

/**
 * Who may scrape `/metrics` (`METRICS`): `token` (default) asks for `METRICS_TOKEN` when it is
 * set (a credential for the scraper alone), else for the API's token; `public` asks nothing (a
 * private network); `off` answers 404.
 */
@Injectable()
export class MetricsGuard implements CanActivate {
  constructor(
    private readonly config: AppConfig,
    private readonly tokens: AuthTokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const { access, token } = this.config.metrics;
    if (access === 'off') {
      throw new AppError('not_found', 'Metrics are turned off (METRICS=off)', HttpStatus.NOT_FOUND);
    }
    if (access === 'public') return true;
    const presented = AuthTokenService.bearer(
      context.switchToHttp().getRequest<Request>().headers.authorization,
    );
    const allowed =
      token === undefined ? this.tokens.verify(presented) : sameSecret(presented, token);
    if (allowed) return true;
    throw new AppError('unauthorized', 'Missing or invalid bearer token', HttpStatus.UNAUTHORIZED);
  }
}
