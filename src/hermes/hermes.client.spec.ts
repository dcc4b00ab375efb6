import { Logger } from '@nestjs/common';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { lastValueFrom, toArray } from 'rxjs';
import { AppConfig, HermesDefaults } from '../config/app-config';
import { HermesClient } from './hermes.client';
import { HermesProfiles } from './hermes-profiles';
import {
  HermesConnectionError,
  HermesHttpError,
  HermesProtocolError,
  HermesStreamLostError,
  HermesTimeoutError,
} from './hermes.errors';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: Received, res: ServerResponse) => void;

/** A scriptable upstream on an ephemeral port. */
class StubUpstream {
  readonly received: Received[] = [];
  handler: Handler = (_req, res) => res.writeHead(500).end();
  private readonly server: Server;
  private readonly closedRequests: (() => void)[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const received = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body,
        };
        this.received.push(received);
        res.on('close', () => this.closedRequests.shift()?.());
        this.handler(received, res);
      });
    });
  }

  /** Resolves when the client side of the next response closes. */
  nextResponseClosed(): Promise<void> {
    return new Promise((resolve) => this.closedRequests.push(resolve));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const json = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify(body));

function clientFor(hermes: Partial<HermesDefaults> & { url: string }): HermesClient {
  const defaults: HermesDefaults = {
    contextLength: 128000,
    requestTimeoutMs: 2000,
    streamIdleTimeoutMs: 2000,
    ...hermes,
  };
  const config = { hermes: defaults } as AppConfig;
  return new HermesClient(new HermesProfiles(config), config);
}

describe('HermesClient (over HTTP)', () => {
  let upstream: StubUpstream;
  let url: string;
  let client: HermesClient;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    upstream = new StubUpstream();
    url = await upstream.start();
    client = clientFor({ url, apiKey: 'secret-key' });
  });
  afterEach(() => upstream.stop());

  describe('createRun', () => {
    it('posts the request with the idempotency key and the bearer key', async () => {
      upstream.handler = (_req, res) =>
        json(res, 202, { run_id: 'run_abc', status: 'started', replayed: false });
      const created = await client.createRun(
        'default',
        {
          input: 'hi',
          session_id: 'eph_1',
          conversation_history: [{ role: 'user', content: 'before' }],
        },
        'gw-run-1',
      );
      expect(created).toEqual({ runId: 'run_abc', status: 'started', replayed: false });
      const [req] = upstream.received;
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/v1/runs');
      expect(req.headers['idempotency-key']).toBe('gw-run-1');
      expect(req.headers['authorization']).toBe('Bearer secret-key');
      expect(req.headers['content-type']).toBe('application/json');
      expect(JSON.parse(req.body)).toEqual({
        input: 'hi',
        session_id: 'eph_1',
        conversation_history: [{ role: 'user', content: 'before' }],
      });
    });

    it('reports a replayed run (body flag or header)', async () => {
      upstream.handler = (_req, res) =>
        json(
          res,
          202,
          { run_id: 'run_abc', status: 'started' },
          { 'Idempotency-Replayed': 'true' },
        );
      expect(await client.createRun('default', { input: 'hi' }, 'k')).toMatchObject({
        replayed: true,
      });
    });

    it('sends no Authorization header for a profile without a key', async () => {
      upstream.handler = (_req, res) => json(res, 202, { run_id: 'run_abc', status: 'started' });
      await clientFor({ url }).createRun('default', { input: 'hi' }, 'k');
      expect(upstream.received[0].headers).not.toHaveProperty('authorization');
    });

    it('throws HermesHttpError with the status and body on a non-2xx answer', async () => {
      upstream.handler = (_req, res) => json(res, 503, { error: 'at capacity' });
      const error = await client
        .createRun('default', { input: 'hi' }, 'k')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HermesHttpError);
      expect(error).toMatchObject({
        code: 'hermes_http_error',
        status: 503,
        body: '{"error":"at capacity"}',
      });
    });

    it('throws HermesProtocolError when a 2xx answer has no run_id', async () => {
      upstream.handler = (_req, res) => json(res, 202, { status: 'started' });
      await expect(client.createRun('default', { input: 'hi' }, 'k')).rejects.toBeInstanceOf(
        HermesProtocolError,
      );
      upstream.handler = (_req, res) => res.writeHead(200).end('not json');
      await expect(client.createRun('default', { input: 'hi' }, 'k')).rejects.toThrow('no run_id');
    });

    it('throws HermesTimeoutError when no answer comes in time', async () => {
      upstream.handler = () => undefined; // never answers
      const slow = clientFor({ url, requestTimeoutMs: 150 });
      const error = await slow.createRun('default', { input: 'hi' }, 'k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HermesTimeoutError);
      expect(error).toMatchObject({ code: 'hermes_timeout', timeoutMs: 150 });
    });

    it('throws HermesConnectionError when nothing listens', async () => {
      await upstream.stop();
      const error = await client
        .createRun('default', { input: 'hi' }, 'k')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HermesConnectionError);
      expect((error as Error).message).toContain('ECONNREFUSED');
      upstream = new StubUpstream(); // for afterEach
      await upstream.start();
    });

    it('retries a lost answer with the same idempotency key when asked to', async () => {
      upstream.handler = (req, res) => {
        if (upstream.received.length === 1) return; // the first answer is lost
        json(res, 202, { run_id: 'run_abc', status: 'started', replayed: true });
      };
      const retrying = clientFor({ url, requestTimeoutMs: 150 });
      const created = await retrying.createRun('default', { input: 'hi' }, 'key-1', {
        attempts: 2,
      });
      expect(created).toEqual({ runId: 'run_abc', status: 'started', replayed: true });
      expect(upstream.received.map((r) => r.headers['idempotency-key'])).toEqual([
        'key-1',
        'key-1',
      ]);
    });

    it('does not retry an HTTP error', async () => {
      upstream.handler = (_req, res) => json(res, 400, { error: 'input is required' });
      await expect(
        client.createRun('default', { input: '' }, 'k', { attempts: 3 }),
      ).rejects.toBeInstanceOf(HermesHttpError);
      expect(upstream.received).toHaveLength(1);
    });

    it('rejects an invalid idempotency key before calling the upstream', async () => {
      await expect(client.createRun('default', { input: 'hi' }, 'has space')).rejects.toThrow(
        RangeError,
      );
      await expect(client.createRun('default', { input: 'hi' }, '')).rejects.toThrow(RangeError);
      expect(upstream.received).toHaveLength(0);
    });
  });

  describe('getRun', () => {
    it('returns the typed status', async () => {
      upstream.handler = (_req, res) =>
        json(res, 200, {
          object: 'hermes.run',
          run_id: 'run_1',
          status: 'completed',
          output: 'done',
          usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 },
          last_event: 'run.completed',
        });
      const run = await client.getRun('default', 'run_1');
      expect(run).toMatchObject({ run_id: 'run_1', status: 'completed', output: 'done' });
      expect(upstream.received[0]).toMatchObject({ method: 'GET', url: '/v1/runs/run_1' });
    });

    it('returns null for an unknown run and throws when the upstream fails', async () => {
      upstream.handler = (_req, res) => json(res, 404, { error: 'not found' });
      expect(await client.getRun('default', 'run_x')).toBeNull();
      upstream.handler = (_req, res) => json(res, 500, { error: 'boom' });
      await expect(client.getRun('default', 'run_x')).rejects.toMatchObject({ status: 500 });
    });

    it('rejects an unknown status as a protocol error', async () => {
      upstream.handler = (_req, res) => json(res, 200, { run_id: 'run_1', status: 'dancing' });
      await expect(client.getRun('default', 'run_1')).rejects.toBeInstanceOf(HermesProtocolError);
    });
  });

  describe('stopRun', () => {
    it.each([
      [200, { run_id: 'r', status: 'stopping' }, { outcome: 'stopping' }],
      [409, { error: 'run_not_active' }, { outcome: 'not_active' }],
      [404, { error: 'not found' }, { outcome: 'unknown_run' }],
    ])('maps %s to an outcome', async (status, body, outcome) => {
      upstream.handler = (_req, res) => json(res, status, body);
      expect(await client.stopRun('default', 'r')).toEqual(outcome);
      expect(upstream.received[0]).toMatchObject({ method: 'POST', url: '/v1/runs/r/stop' });
    });

    it('returns the final status of a run that had already ended', async () => {
      upstream.handler = (_req, res) =>
        json(res, 200, { run_id: 'r', status: 'completed', output: 'x' });
      expect(await client.stopRun('default', 'r')).toEqual({
        outcome: 'finished',
        run: { run_id: 'r', status: 'completed', output: 'x' },
      });
    });
  });

  it('respondToApproval posts the choice and request id', async () => {
    upstream.handler = (_req, res) => json(res, 200, { ok: true });
    expect(await client.respondToApproval('default', 'r', 'once', 'req_1')).toBe('answered');
    expect(await client.respondToApproval('default', 'r', 'deny')).toBe('answered');
    expect(upstream.received.map((r) => [r.url, JSON.parse(r.body)])).toEqual([
      ['/v1/runs/r/approval', { choice: 'once', request_id: 'req_1' }],
      ['/v1/runs/r/approval', { choice: 'deny' }],
    ]);
    upstream.handler = (_req, res) => json(res, 409, { error: 'no pending approval' });
    expect(await client.respondToApproval('default', 'r', 'once')).toBe('nothing_pending');
    upstream.handler = (_req, res) => json(res, 404, { error: 'no such run' });
    expect(await client.respondToApproval('default', 'r', 'once')).toBe('nothing_pending');
    upstream.handler = (_req, res) => json(res, 500, { error: 'boom' });
    await expect(client.respondToApproval('default', 'r', 'once')).rejects.toMatchObject({
      status: 500,
    });
  });

  it('health reports up and down without throwing', async () => {
    upstream.handler = (_req, res) => json(res, 200, { status: 'ok' });
    expect(await client.health('default')).toMatchObject({ status: 'up', url });
    upstream.handler = (_req, res) => json(res, 503, {});
    expect(await client.health('default')).toMatchObject({ status: 'down', error: 'HTTP 503' });
    await upstream.stop();
    expect(await client.health('default')).toMatchObject({ status: 'down' });
    upstream = new StubUpstream();
    await upstream.start();
  });

  it('throws UnknownProfileError for an unknown profile', async () => {
    await expect(client.getRun('nope', 'r')).rejects.toMatchObject({ code: 'unknown_profile' });
  });

  describe('runEvents', () => {
    const sse = (res: ServerResponse) =>
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const frame = (event: Record<string, unknown>) =>
      `data: ${JSON.stringify({ run_id: 'run_1', timestamp: 1, ...event })}\n\n`;

    it('streams events with the bearer key and completes on the terminal event', async () => {
      upstream.handler = (_req, res) => {
        sse(res);
        res.write(': keepalive\n\n');
        res.write(frame({ event: 'message.delta', delta: 'Hi' }));
        res.write('data: garbage\n\n');
        res.write(frame({ event: 'run.completed', output: 'Hi' }));
        res.end(': stream closed\n\n');
      };
      const events = await lastValueFrom(client.runEvents('default', 'run_1').pipe(toArray()));
      expect(events.map((e) => e.type)).toEqual(['message.delta', 'run.completed']);
      expect(upstream.received[0]).toMatchObject({ url: '/v1/runs/run_1/events' });
      expect(upstream.received[0].headers['authorization']).toBe('Bearer secret-key');
      expect(client.streamStats).toMatchObject({ skippedLines: 1, completed: 1 });
    });

    it('closes the HTTP connection when the subscriber unsubscribes', async () => {
      upstream.handler = (_req, res) => {
        sse(res);
        res.write(frame({ event: 'message.delta', delta: 'Hi' }));
      };
      const closed = upstream.nextResponseClosed();
      let received = 0;
      const subscription = client.runEvents('default', 'run_1').subscribe(() => {
        received++;
        subscription.unsubscribe();
      });
      await closed;
      expect(received).toBe(1);
    });

    it('errors with stream lost when the upstream ends the response early or answers 404', async () => {
      upstream.handler = (_req, res) => {
        sse(res);
        res.end(frame({ event: 'message.delta', delta: 'Hi' }));
      };
      await expect(lastValueFrom(client.runEvents('default', 'run_1'))).rejects.toMatchObject({
        reason: 'ended',
        eventsSeen: 1,
      });
      upstream.handler = (_req, res) => json(res, 404, { error: 'not found' });
      const error = await lastValueFrom(client.runEvents('default', 'run_1')).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(HermesStreamLostError);
      expect(error).toMatchObject({ reason: 'not_found', status: 404 });
      expect(upstream.received).toHaveLength(2); // no reconnect
    });
  });
});
