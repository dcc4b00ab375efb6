import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import pinoHttp from 'pino-http';
import request from 'supertest';
import { configFor } from '../config/testing/config-for';
import type { SerializedRequest } from 'pino';
import { httpLoggerOptions } from './http-logger-options';
import { redactRequest } from './redaction';

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
    // What the route sees after the logger: the live headers must be untouched.
    res.end(req.headers.authorization ?? 'ok');
  });
}

describe('request logging', () => {
  it('never writes a query-string token, and still logs the rest of the URL', async () => {
    const lines: string[] = [];
    const server = loggedServer(lines);
    await request(server)
      .get('/api/hermes/sessions/s1/export?mode=full&token=very-secret-value&ext=txt')
      .set('Authorization', 'Bearer also-secret')
      .expect(200, 'Bearer also-secret');
    const output = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(output).not.toContain('very-secret-value');
    expect(output).not.toContain('also-secret');
    const logged = JSON.parse(lines[lines.length - 1]) as { req: { url: string } };
    expect(logged.req.url).toBe(
      '/api/hermes/sessions/s1/export?mode=full&token=[redacted]&ext=txt',
    );
  });

  it('never writes a credential sent in another parameter or header', async () => {
    const lines: string[] = [];
    await request(loggedServer(lines))
      .get('/socket.io/?EIO=4&access_token=p1-secret&%74oken=p2-secret&api_key=p3-secret&q=kept')
      .set('X-Api-Key', 'h1-secret')
      .set('Proxy-Authorization', 'Basic h2-secret')
      .set('X-Auth-Token', 'h3-secret')
      .set('Cookie', 'sid=h4-secret')
      .set('X-Request-Id', 'kept-id')
      .expect(200);
    const output = lines.join('\n');
    expect(output).not.toMatch(/secret/);
    const logged = JSON.parse(lines[lines.length - 1]) as {
      req: { url: string; headers: Record<string, string> };
    };
    expect(logged.req.url).toBe(
      '/socket.io/?EIO=4&access_token=[redacted]&%74oken=[redacted]&api_key=[redacted]&q=kept',
    );
    expect(logged.req.headers).toMatchObject({
      'x-api-key': '[redacted]',
      'proxy-authorization': '[redacted]',
      'x-request-id': 'kept-id',
    });
  });

  it('leaves URLs without a token alone', async () => {
    const lines: string[] = [];
    await request(loggedServer(lines)).get('/api/sessions?limit=2&cursor=abc').expect(200);
    const logged = JSON.parse(lines[lines.length - 1]) as { req: { url: string } };
    expect(logged.req.url).toBe('/api/sessions?limit=2&cursor=abc');
  });
});

describe('redactRequest', () => {
  it('redacts the parsed query as well, without touching the original object', () => {
    const query = { mode: 'full', token: 'secret' };
    const headers = { authorization: 'Bearer secret', accept: '*/*' };
    const serialized = redactRequest({
      url: '/x?token=secret',
      query,
      headers,
    } as unknown as SerializedRequest);
    expect(serialized.url).toBe('/x?token=[redacted]');
    expect(serialized.query).toEqual({ mode: 'full', token: '[redacted]' });
    expect(query.token).toBe('secret');
    expect(serialized.headers).toEqual({ authorization: '[redacted]', accept: '*/*' });
    expect(headers.authorization).toBe('Bearer secret');
  });
});
