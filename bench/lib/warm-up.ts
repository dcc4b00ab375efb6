import { closeAll, connectMany, request } from './chat-socket';
import type { Gateway } from './processes';

/**
 * A few short runs on throw-away sessions right after the server started, so that what is
 * measured is a running server, not its first requests (JIT, the tokeniser's first load, the
 * first SQLite statements).
 */
export async function warmUp(gateway: Gateway, sessions = 5): Promise<void> {
  const sockets = await connectMany(gateway.url, gateway.token, sessions);
  try {
    await Promise.all(
      sockets.map(async (socket, i) => {
        const done = new Promise<void>((resolve) => {
          socket.once('run.completed', () => resolve());
          socket.once('run.failed', () => resolve());
        });
        await request(socket, 'run', {
          session_id: `warmup-${process.pid}-${Date.now()}-${i}`,
          input: 'warm up [[deltas:50,interval:2]]',
        });
        await done;
      }),
    );
  } finally {
    closeAll(sockets);
  }
}
