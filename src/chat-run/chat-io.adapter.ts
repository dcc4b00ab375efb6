import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { RedisConnection } from '../cluster/redis.connection';
import { AppConfig } from '../config/app-config';
import { RoomSequencer, type HookableAdapter } from './cluster/room-sequencer';

/** Headroom for the envelope around `input` (other fields, JSON escaping of the text). */
const ENVELOPE_BYTES = 64 * 1024;

/**
 * Socket.IO server settings that come from configuration: CORS like the REST API, and a message
 * limit above the `input` limit, so that an oversize input is answered `input_too_large`
 * instead of a silent disconnect.
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
    const { maxInputBytes } = this.config.chatRun;
    const server = super.createIOServer(port, {
      ...options,
      // JSON escaping can make text six times larger (a control character becomes \u00XX).
      maxHttpBufferSize: maxInputBytes * 6 + ENVELOPE_BYTES,
      cors: { origin: this.config.http.corsOrigins, credentials: false },
    }) as Server;
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
