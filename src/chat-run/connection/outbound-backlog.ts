import { type EngineConnection, transportBufferedBytes } from './engine-transport';

export interface BacklogSettings {
  /** Bytes waiting above which the socket must be seen reading... */
  maxBufferedBytes: number;
  /** ...within this long, or it is given up. */
  sendStallMs: number;
}

/**
 * Watches the bytes waiting to go out to one connection: the packets Engine.IO holds while the
 * transport is busy, plus what the WebSocket has queued and the OS has not taken. A client that
 * stops reading makes that grow with every event of its sessions. Over `maxBufferedBytes`, the
 * backlog must shrink within `sendStallMs`, else `onStalled` is called (once): a single large
 * packet (a long `resumed`) to a client that reads is fine, a reader that stopped is not.
 * It is checked as each packet is queued, which is when it grows.
 */
export class OutboundBacklog {
  /** Bytes of the packets in Engine.IO's write buffer (emptied at each flush). */
  private queued = 0;
  /** Since when the backlog has been over the limit without shrinking, and its size then. */
  private overSince: number | undefined;
  private mark = 0;
  private stalled = false;

  constructor(
    private readonly connection: EngineConnection,
    private readonly settings: BacklogSettings,
    private readonly onStalled: (bytes: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  watch(): void {
    this.connection.on('packetCreate', this.onPacket);
    this.connection.on('flush', this.onFlush);
  }

  /** Bytes accepted for this connection and not yet handed to the OS. */
  pending(): number {
    return this.queued + transportBufferedBytes(this.connection.transport);
  }

  private readonly onPacket = (packet: unknown): void => {
    this.queued += packetBytes(packet);
    this.check();
  };

  private readonly onFlush = (): void => {
    this.queued = 0;
  };

  private check(): void {
    if (this.stalled) return;
    const pending = this.pending();
    const now = this.now();
    if (pending <= this.settings.maxBufferedBytes) {
      this.overSince = undefined;
    } else if (this.overSince === undefined || pending < this.mark) {
      this.overSince = now;
      this.mark = pending;
    } else if (now - this.overSince >= this.settings.sendStallMs) {
      this.stalled = true;
      this.onStalled(pending);
    }
  }
}

/** Size of an Engine.IO packet's data: text length (about its bytes), or a buffer's bytes. */
function packetBytes(packet: unknown): number {
  const data = (packet as { data?: unknown } | null)?.data;
  if (typeof data === 'string') return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}
