import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the app, for clients that stop reading: `stall()` stops reading what
 * the app sends (the OS buffers fill, then the app's own queue), while the client side stays
 * open. Bytes are forwarded by hand, not piped, so nothing resumes a stalled side behind the
 * test's back.
 */
export class StallingProxy {
  private readonly upstreams = new Set<Socket>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  private constructor(private readonly target: URL) {}

  /** Listens on an ephemeral port; resolves the proxy and its base URL. */
  static async start(targetUrl: string): Promise<{ proxy: StallingProxy; url: string }> {
    const proxy = new StallingProxy(new URL(targetUrl));
    const port = await proxy.listen();
    return { proxy, url: `http://127.0.0.1:${port}` };
  }

  /** Stops reading from the app on every connection made so far. */
  stall(): void {
    for (const upstream of this.upstreams) upstream.pause();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private listen(): Promise<number> {
    this.server = createServer((client) => this.forward(client));
    return new Promise((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(0, '127.0.0.1', () => {
        const address = this.server?.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  }

  private forward(client: Socket): void {
    const upstream = connect(Number(this.target.port), this.target.hostname);
    this.upstreams.add(upstream);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      // A reset shows up as an error, then 'close', which ends both sides.
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
  }
}
