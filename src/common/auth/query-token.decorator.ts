import { SetMetadata } from '@nestjs/common';

export const ACCEPTS_QUERY_TOKEN = 'auth:query-token';

/**
 * Lets a route take the token as `?token=` when no `Authorization` header is sent: a download a
 * browser opens as a plain URL cannot set headers. Only for such routes, since a URL ends up in
 * histories and proxy logs (the request log redacts it).
 */
export const AcceptsQueryToken = (): MethodDecorator => SetMetadata(ACCEPTS_QUERY_TOKEN, true);
