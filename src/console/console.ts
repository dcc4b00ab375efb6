import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';

/** The console's files; `nest build` copies them beside the compiled code (nest-cli.json). */
export const CONSOLE_ASSETS = join(__dirname, 'public');

/** Scripts and connections only from the gateway itself; the page is never framed. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Serves the browser console at `/console`: static files, outside the `api` prefix and without
 * auth, since the page itself holds nothing: it asks for the token and sends it with each REST
 * request and the socket handshake.
 */
export function serveConsole(app: NestExpressApplication): void {
  app.useStaticAssets(CONSOLE_ASSETS, {
    prefix: '/console',
    index: 'index.html',
    setHeaders: (res: ServerResponse) => {
      res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      // A new gateway version brings a new console: revalidate instead of caching for long.
      res.setHeader('Cache-Control', 'no-cache');
    },
  });
}
