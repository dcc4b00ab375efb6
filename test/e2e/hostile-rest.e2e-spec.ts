import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { startServer, stopServer } from './support/server-process';
import { destroyTestApp, startTestApp, TestApp } from './support/test-app';

/** A JSON text nested `depth` arrays deep. */
function nestedJson(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** Resolves once the socket connected or was refused, with which. */
function settled(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('connect', () => resolve('connect'));
    socket.once('connect_error', (error) => resolve(`connect_error: ${error.message}`));
  });
}

describe('REST limits, secrets in logs and data files (e2e)', () => {
  describe('request bodies', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp({ env: { HTTP_MAX_BODY_BYTES: '4096', MAX_JSON_DEPTH: '16' } });
    });

    afterAll(async () => {
      await t.close();
      await destroyTestApp(t);
    });

    it('answers 413 payload_too_large to a body over HTTP_MAX_BODY_BYTES, with or without a token', async () => {
      const body = { id: 'big', title: 'x'.repeat(8000) };
      for (const headers of [{}, t.auth]) {
        const res = await request(t.url).post('/api/sessions').set(headers).send(body).expect(413);
        expect(res.body).toEqual({
          statusCode: 413,
          code: 'payload_too_large',
          message: 'The request body is larger than 4096 bytes',
        });
      }
      await request(t.url).get('/api/sessions/big').set(t.auth).expect(404);
    });

    it('answers 400 to a body nested deeper than MAX_JSON_DEPTH, on every route', async () => {
      const deep = `{"title":${nestedJson(2000)}}`;
      const routes: [string, string][] = [
        ['post', '/api/sessions'],
        ['patch', '/api/sessions/any'],
        ['post', '/api/hermes/sessions/batch-delete'],
        ['post', '/api/hermes/sessions/any/rename'],
      ];
      for (const [method, path] of routes) {
        for (const headers of [{}, t.auth]) {
          const call = method === 'post' ? request(t.url).post(path) : request(t.url).patch(path);
          const res = await call.set(headers).set('Content-Type', 'application/json').send(deep);
          expect({ path, status: res.status, body: res.body as unknown }).toEqual({
            path,
            status: 400,
            body: {
              statusCode: 400,
              code: 'invalid_payload',
              message: 'The JSON body nests deeper than 16 levels',
            },
          });
        }
      }
    });

    it('still validates a body within the limits', async () => {
      const res = await request(t.url)
        .post('/api/sessions')
        .set(t.auth)
        .set('Content-Type', 'application/json')
        .send(`{"title":${nestedJson(15)}}`)
        .expect(400);
      expect(res.body).toMatchObject({ code: 'invalid_payload' });
      await request(t.url).post('/api/sessions').set(t.auth).send({ id: 'fine' }).expect(201);
    });
  });

  // One real process: what it prints, and what it leaves on disk.
  describe('the server process', () => {
    const secrets = {
      query: 'q-secret-0001',
      exportQuery: 'q-secret-0002',
      apiKey: 'h-secret-0003',
      proxy: 'h-secret-0004',
      cookie: 'h-secret-0005',
      bigBody: 'b-secret-0006',
      deepBody: 'b-secret-0007',
      socketQuery: 's-secret-0008',
      socketWrongAuth: 's-secret-0009',
    };
    const token = 'operator-token-0123456789abcdef';
    let root: string;
    let output: string;
    const statuses: Record<string, number | string> = {};

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'gateway-files-'));
      const dataDir = join(root, 'data');
      await mkdir(dataDir);
      // An operator's token file that others can read.
      await writeFile(join(dataDir, 'auth-token'), `${token}\n`);
      await chmod(join(dataDir, 'auth-token'), 0o644);
      const server = await startServer({
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        DATABASE_URL: `sqlite:${join(root, 'db', 'nested', 'gateway.sqlite')}`,
        AUTH_TOKEN: '',
        AUTH_DISABLED: '',
        LOG_LEVEL: 'trace',
        HTTP_MAX_BODY_BYTES: '65536',
      });
      try {
        const { url } = server;
        const auth = { Authorization: `Bearer ${token}` };
        // Answers are kept, not asserted here: each test below checks one thing.
        const calls = {
          // Refused (this route takes no token parameter), and logged.
          queryToken: request(url).get(`/api/sessions?limit=5&token=${secrets.query}`).set(auth),
          exportToken: request(url).get(`/api/hermes/sessions/none/export?token=${token}`),
          headers: request(url)
            .get('/api/sessions')
            .set(auth)
            .set('X-Api-Key', secrets.apiKey)
            .set('Proxy-Authorization', `Basic ${secrets.proxy}`)
            .set('Cookie', `session=${secrets.cookie}`),
          // Both past what the body parser and the validation can take without failing.
          bigBody: request(url)
            .post('/api/sessions')
            .set(auth)
            .send({ token: secrets.bigBody, title: 'x'.repeat(200 * 1024) }),
          deepBody: request(url)
            .post('/api/sessions')
            .set(auth)
            .set('Content-Type', 'application/json')
            .send(`{"token":"${secrets.deepBody}","x":${nestedJson(5000)}}`),
        };
        for (const [name, call] of Object.entries(calls)) statuses[name] = (await call).status;
        const polling = io(`${url}/chat-run`, {
          transports: ['polling'],
          query: { token: secrets.socketQuery },
          auth: { token },
          reconnection: false,
          forceNew: true,
        });
        statuses.pollingSocket = await settled(polling);
        polling.disconnect();
        const refused = io(`${url}/chat-run`, {
          transports: ['websocket'],
          query: { token: secrets.socketQuery },
          auth: { token: secrets.socketWrongAuth },
          reconnection: false,
          forceNew: true,
        });
        statuses.refusedSocket = await settled(refused);
        refused.disconnect();
      } finally {
        await stopServer(server);
        output = server.output();
      }
    });

    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('served every request it was sent', () => {
      expect(statuses).toEqual({
        queryToken: 400,
        exportToken: 404,
        headers: 200,
        bigBody: 413,
        deepBody: 400,
        pollingSocket: 'connect',
        refusedSocket: 'connect_error: Authentication failed',
      });
    });

    it('never logs a token or other credential, wherever it was sent', () => {
      // It did log those requests, with the credentials taken out.
      expect(output).toContain('/api/sessions?limit=5&token=[redacted]');
      expect(output).toContain('"x-api-key":"[redacted]"');
      for (const secret of [...Object.values(secrets), token]) {
        expect(output).not.toContain(secret);
      }
    });

    it('logs no error for a body over the limit or too deep (no 500, no stack)', () => {
      const errors = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg?: string })
        .filter((line) => line.level >= 50);
      expect(errors).toEqual([]);
      expect(output).not.toMatch(/Unexpected error|internal_error|entity\.too\.large/);
    });

    it('warns about a token file that others can read', () => {
      expect(output).toMatch(/auth-token is readable by other users \(mode 0644\)/);
    });

    it('creates the database folder 0700 and its files 0600', async () => {
      const folder = join(root, 'db', 'nested');
      expect((await stat(folder)).mode & 0o777).toBe(0o700);
      expect((await stat(join(root, 'db'))).mode & 0o777).toBe(0o700);
      const files = await readdir(folder);
      expect(files).toEqual(expect.arrayContaining(['gateway.sqlite']));
      for (const file of files) {
        expect({ file, mode: (await stat(join(folder, file))).mode & 0o777 }).toEqual({
          file,
          mode: 0o600,
        });
      }
    });
  });
});
