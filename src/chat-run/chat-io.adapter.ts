import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';
import { AppConfig } from '../config/app-config';

/** Headroom for the envelope around `input` (other fields, JSON escaping of the text). */
const ENVELOPE_BYTES = 64 * 1024;

/**
 * Socket.IO server settings that come from configuration: CORS like the REST API, and a message
 * limit above the `input` limit, so that an oversize input is answered `input_too_large`
 * instead of a silent disconnect.
 */
export class ChatIoAdapter extends IoAdapter {
  private readonly config: AppConfig;

  constructor(app: INestApplicationContext) {
    super(app);
    this.config = app.get(AppConfig);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const { maxInputBytes } = this.config.chatRun;
    return super.createIOServer(port, {
      ...options,
      // JSON escaping can make text six times larger (a control character becomes \u00XX).
      maxHttpBufferSize: maxInputBytes * 6 + ENVELOPE_BYTES,
      cors: { origin: this.config.http.corsOrigins, credentials: false },
    }) as Server;
  }
}
