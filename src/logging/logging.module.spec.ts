import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import pinoHttp from 'pino-http';
import request from 'supertest';
import { configFor } from '../config/testing/config-for';
import type { SerializedRequest } from 'pino';
import { httpLoggerOptions, redactQueryToken } from './logging.module';

/** The request logger as the app configures it, writing its lines into `lines`. */
function loggedServer(lines: string[]): Server {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pinoHttp(httpLoggerOptions(configFor({ LOG_LEVEL: 'info' })), sink);
  return createServer((req, res) => {
    logger(req, res);
    res.end('ok');
  });
}

describe('request logging', () => {
  it('never writes a query-string token, and still logs the rest of the URL', async () => {
    const lines: string[] = [];
    const server = loggedServer(lines);
    await request(server)
      .get('/api/hermes/sessions/s1/export?mode=full&token=very-secret-value&ext=txt')
      .set('Authorization', 'Bearer also-secret')
      .expect(200);
    const output = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(output).not.toContain('very-secret-value');
    expect(output).not.toContain('also-secret');
    const logged = JSON.parse(lines[lines.length - 1]) as { req: { url: string } };
    expect(logged.req.url).toBe(
      '/api/hermes/sessions/s1/export?mode=full&token=[redacted]&ext=txt',
    );
  });

  it('leaves URLs without a token alone', async () => {
    const lines: string[] = [];
    await request(loggedServer(lines)).get('/api/sessions?limit=2&cursor=abc').expect(200);
    const logged = JSON.parse(lines[lines.length - 1]) as { req: { url: string } };
    expect(logged.req.url).toBe('/api/sessions?limit=2&cursor=abc');
  });
});

describe('redactQueryToken', () => {
  it('redacts the parsed query as well, without touching the original object', () => {
    const query = { mode: 'full', token: 'secret' };
    const serialized = redactQueryToken({
      url: '/x?token=secret',
      query,
    } as unknown as SerializedRequest);
    expect(serialized.url).toBe('/x?token=[redacted]');
    expect(serialized.query).toEqual({ mode: 'full', token: '[redacted]' });
    expect(query.token).toBe('secret');
  });
});
