import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, stopServer, type ServerProcess } from './support/server-process';

interface LogLine {
  level: number;
  reqId?: string;
  req?: { id?: string; url?: string };
  res?: { statusCode?: number };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * `X-Request-Id` on the real server process: a sane incoming id is kept, anything else replaced,
 * the id is echoed on the response and written on the request's log line (its stdout).
 */
describe('X-Request-Id (e2e, real process)', () => {
  let dataDir: string;
  let server: ServerProcess;
  const token = randomBytes(24).toString('hex');

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gateway-request-id-'));
    server = await startServer({
      DATA_DIR: dataDir,
      AUTH_TOKEN: token,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      DATABASE_URL: '',
      HTTP_MAX_BODY_BYTES: '1024',
    });
  });

  afterAll(async () => {
    await stopServer(server);
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The request's completion line, once the server has written it. */
  async function loggedLine(id: string): Promise<LogLine> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const line = server
        .output()
        .split('\n')
        .filter((text) => text.startsWith('{'))
        .map((text) => JSON.parse(text) as LogLine)
        .find((entry) => entry.reqId === id && entry.res !== undefined);
      if (line) return line;
      if (Date.now() > deadline) throw new Error(`no log line with ${id}:\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const get = (headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/sessions?limit=1`, {
      headers: { Authorization: `Bearer ${token}`, ...headers },
    });

  it('keeps a sane incoming id, echoes it and logs it with the request', async () => {
    const response = await get({ 'X-Request-Id': 'client-trace-0001' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('client-trace-0001');
    const line = await loggedLine('client-trace-0001');
    expect(line.req).toMatchObject({ id: 'client-trace-0001', url: '/api/sessions?limit=1' });
    expect(line.res?.statusCode).toBe(200);
  });

  it('generates an id when there is none', async () => {
    const response = await get();
    const id = response.headers.get('x-request-id') ?? '';
    expect(id).toMatch(UUID);
    expect((await loggedLine(id)).req?.id).toBe(id);
  });

  it('replaces an id that is too long or not printable ASCII', async () => {
    for (const insane of ['x'.repeat(129), 'caf\u00e9', 'a\tb']) {
      const response = await get({ 'X-Request-Id': insane });
      const id = response.headers.get('x-request-id') ?? '';
      expect(id).toMatch(UUID);
      await loggedLine(id);
    }
  });

  it('answers a request refused before routing with its id too', async () => {
    const response = await fetch(`${server.url}/api/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'too-big-1' },
      body: JSON.stringify({ title: 'x'.repeat(4096) }),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('x-request-id')).toBe('too-big-1');
    expect((await loggedLine('too-big-1')).res?.statusCode).toBe(413);
  });
});
