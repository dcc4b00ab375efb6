import { Decoder, Encoder } from 'socket.io-parser';
import { exceedsJsonDepth } from '../../common/json/json-depth';

/** What Socket.IO's `parser` option takes. */
export interface SocketIoParser {
  Encoder: typeof Encoder;
  Decoder: typeof Decoder;
}

/**
 * Socket.IO's own parser with a nesting limit. Socket.IO JSON-parses every text message as it
 * arrives, before any middleware or handler (the handshake's CONNECT packet included), so a
 * deeply nested message costs its parse (and the walks over it) whoever sent it. One nested
 * deeper than `maxDepth` (plus one for the event's argument list) is refused unparsed: the
 * decoder throws, and Socket.IO closes the connection as it does for any malformed packet.
 */
export function depthLimitedParser(maxDepth: number): SocketIoParser {
  class DepthLimitedDecoder extends Decoder {
    override add(packet: unknown): void {
      if (typeof packet === 'string' && exceedsJsonDepth(packet, maxDepth + 1)) {
        throw new Error(`Packet nested deeper than ${maxDepth} levels`);
      }
      super.add(packet);
    }
  }
  return { Encoder, Decoder: DepthLimitedDecoder };
}
