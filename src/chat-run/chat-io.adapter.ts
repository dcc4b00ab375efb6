import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { RedisConnection } from '../cluster/redis.connection';
import { AppConfig } from '../config/app-config';
import { RoomSequencer, type HookableAdapter } from './cluster/room-sequencer';
import { depthLimitedParser } from './connection/depth-limited-parser';

/**
 * Socket.IO server settings that come from configuration: CORS like the REST API, the Redis
 * adapter with several instances, and what a connection may cost before it has authenticated
 * (the token comes in the namespace CONNECT packet, after the transport is open, so the
 * transport cannot check it):
 * - frames are bounded small (`SOCKET_UNAUTHENTICATED_MAX_BYTES`); a socket's bound goes up
 *   once its namespace connection is authenticated (`SocketLimits`);
 * - no message is parsed when nested deeper than `MAX_JSON_DEPTH`;
 * - the root namespace `/` is refused, and a connection with no namespace joined after
 *   `SOCKET_AUTH_TIMEOUT_MS` is closed (Socket.IO's `connectTimeout`).
 */
export class ChatIoAdapter extends IoAdapter {
  private readonly config: AppConfig;
  private readonly redis: RedisConnection;
  private readonly sequencer: RoomSequencer;

  constructor(app: INestApplicationContext) {
    super(app);
    this.config = app.get(AppConfig);
    this.redis = app.get(RedisConnection);
    this.sequencer = app.get(RoomSequencer);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const { sockets } = this.config;
    const server = super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: sockets.unauthenticatedMaxBytes,
      connectTimeout: sockets.authTimeoutMs,
      parser: depthLimitedParser(sockets.maxJsonDepth),
      cors: { origin: this.config.http.corsOrigins, credentials: false },
    }) as Server;
    server.use((_socket, next) => next(new Error('Invalid namespace')));
    const { client } = this.redis;
    const cluster = this.config.cluster;
    if (client && cluster) {
      // Room events, joins and requests between instances. The streams adapter rather than the
      // pub/sub one: a stream is read from an offset, so a short Redis outage delays packets
      // instead of dropping them, and one stream keeps one order for everything an instance
      // publishes (a replay sent to a socket, then its join, arrive in that order).
      const streams = createAdapter(client, {
        streamName: `${cluster.keyPrefix}socket.io`,
        channelPrefix: `${cluster.keyPrefix}socket.io`,
        // Payloads are JSON: no binary check per packet.
        onlyPlaintext: true,
      });
      const sequencer = this.sequencer;
      // Socket.IO calls the adapter factory with `new`: a function, not an arrow.
      const sequenced = function (nsp: unknown) {
        const adapter = streams(nsp);
        sequencer.attach(adapter as unknown as HookableAdapter);
        return adapter;
      };
      server.adapter(sequenced as unknown as Parameters<Server['adapter']>[0]);
    }
    return server;
  }
}
