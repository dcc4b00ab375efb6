import { Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { AppConfig } from '../../config/app-config';
import { MetricsRegistry } from '../../metrics/metrics.registry';
import type { AckFailure } from '../chat-run.events';
import { answerRefusal } from '../request-refusal';
import { ChatSocket, SessionEmitter } from '../session-emitter';
import { closeNow, setFrameLimit, type EngineTransport } from './engine-transport';
import { EventRateLimiter } from './event-rate-limiter';
import { OutboundBacklog } from './outbound-backlog';

/** Headroom for the envelope around `input` (other fields, JSON escaping of the text). */
const ENVELOPE_BYTES = 64 * 1024;

/**
 * What an authenticated socket may cost, set up as namespace middleware right after the
 * handshake (so only for sockets that passed it):
 * - its frame limit goes up from the small pre-authentication bound to one above the `input`
 *   limit, so an oversize input is answered `input_too_large` instead of a silent disconnect;
 * - its events go through a rate limit (`rate_limited`; a persistent flooder is disconnected);
 * - the bytes waiting to be sent to it are watched, and a reader that stopped is disconnected
 *   (it comes back with `resume` and `after_seq`).
 */
@Injectable()
export class SocketLimits {
  private readonly logger = new Logger(SocketLimits.name);
  private readonly frameBytes: number;
  private warnedFrameLimit = false;
  private readonly rateLimited: Counter;
  private readonly dropped: Counter<'reason'>;

  constructor(
    private readonly config: AppConfig,
    private readonly emitter: SessionEmitter,
    metrics: MetricsRegistry,
  ) {
    this.rateLimited = metrics.counter({
      name: 'socket_events_rate_limited_total',
      help: 'Client events refused with rate_limited',
    });
    this.dropped = metrics.counter({
      name: 'socket_disconnects_total',
      help: 'Sockets the server disconnected: flood (over the rate limit) or slow_reader (stopped reading)',
      labelNames: ['reason'],
    });
    // JSON escaping can make text six times larger (a control character becomes \u00XX).
    this.frameBytes = config.chatRun.maxInputBytes * 6 + ENVELOPE_BYTES;
  }

  readonly admit = (socket: ChatSocket, next: (error?: Error) => void): void => {
    this.raiseFrameLimit(socket);
    this.limitEventRate(socket);
    const backlog = new OutboundBacklog(socket.conn, this.config.sockets, (bytes) =>
      this.dropSlowReader(socket, bytes),
    );
    backlog.watch();
    next();
  };

  private raiseFrameLimit(socket: ChatSocket): void {
    const raise = (transport: EngineTransport): void => {
      if (setFrameLimit(transport, this.frameBytes) || this.warnedFrameLimit) return;
      this.warnedFrameLimit = true;
      this.logger.warn(
        `Cannot raise the frame limit of a ${transport.name} connection: inputs over ` +
          `SOCKET_UNAUTHENTICATED_MAX_BYTES will close the connection`,
      );
    };
    raise(socket.conn.transport);
    // An upgrade (polling to WebSocket) brings a new transport with the server's small bound.
    socket.conn.on('upgrade', raise);
  }

  private limitEventRate(socket: ChatSocket): void {
    const limiter = new EventRateLimiter(this.config.sockets, performance.now());
    let flooded = false;
    socket.use((packet, next) => {
      // Being disconnected: what it had sent already is dropped unanswered.
      if (flooded) return;
      const verdict = limiter.take(performance.now());
      if (verdict === 'allow') return next();
      this.rateLimited.inc();
      const args: readonly unknown[] = packet;
      const [request, body] = args;
      const last = args[args.length - 1];
      const ack = typeof last === 'function' ? (last as (reply: AckFailure) => void) : undefined;
      answerRefusal(
        this.emitter,
        socket,
        { request: String(request), body, ack },
        { code: 'rate_limited', message: 'Too many requests from this connection; slow down' },
      );
      if (verdict === 'flood') {
        flooded = true;
        this.logger.warn(`Disconnected socket ${socket.id}: it kept sending over the rate limit`);
        this.dropped.inc({ reason: 'flood' });
        socket.disconnect(true);
      }
    });
  }

  private dropSlowReader(socket: ChatSocket, bytes: number): void {
    this.logger.warn(
      `Disconnected socket ${socket.id}: ${bytes} bytes waiting and it stopped reading`,
    );
    this.dropped.inc({ reason: 'slow_reader' });
    closeNow(socket.conn);
  }
}
