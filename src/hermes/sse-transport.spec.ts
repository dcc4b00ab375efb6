import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exchange } from './http-exchange';
import { nodeHttpFetch } from './sse-transport';

/**
 * A real upstream that closes a pooled connection as it is reused, the way one whose keep-alive
 * ran out does while the gateway was too busy to notice: the first stream request that arrives
 * on a connection that already served a request is dropped unanswered.
 */
describe('nodeHttpFetch (a real server over a pooled connection)', () => {
  let server: Server;
  let base: string;
  const served = new WeakSet<Socket>();
  let dropped = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const socket = request.socket;
      if (request.url === '/stream' && served.has(socket) && dropped === 0) {
        dropped++;
        socket.destroy();
        return;
      }
      served.add(socket);
      if (request.url === '/seed') return response.end('ok');
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      response.end('data: {"event":"run.completed"}\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends a stream request again when its pooled connection was closed under it', async () => {
    // Leaves a kept-alive connection in the shared pool, which the stream request then takes.
    await exchange({ method: 'GET', url: `${base}/seed`, headers: {}, timeoutMs: 5000 });
    const response = await nodeHttpFetch(`${base}/stream`, { headers: {} });
    expect(dropped).toBe(1);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const chunks: string[] = [];
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      chunks.push(Buffer.from(read.value).toString('utf8'));
    }
    expect(chunks.join('')).toBe('data: {"event":"run.completed"}\n\n');
  });

  it('gives up on an aborted signal at once', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      nodeHttpFetch(`${base}/stream`, { headers: {}, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});
