import { EventEmitter } from 'node:events';
import type { EngineConnection } from './engine-transport';
import { OutboundBacklog } from './outbound-backlog';

/** An Engine.IO connection as the backlog sees it: its events and a WebSocket transport. */
class FakeConnection extends EventEmitter {
  readonly transport = { name: 'websocket', socket: { bufferedAmount: 0, terminate: () => {} } };

  queue(bytes: number): void {
    this.emit('packetCreate', { type: 'message', data: 'x'.repeat(bytes) });
  }

  /** Engine.IO hands its buffer to the transport, which has not written it out yet. */
  flushToSocket(): void {
    this.emit('flush', []);
  }
}

describe('OutboundBacklog', () => {
  let now: number;
  let connection: FakeConnection;
  let stalled: number[];

  const watch = (maxBufferedBytes = 1000, sendStallMs = 100): OutboundBacklog => {
    const backlog = new OutboundBacklog(
      connection as unknown as EngineConnection,
      { maxBufferedBytes, sendStallMs },
      (bytes) => stalled.push(bytes),
      () => now,
    );
    backlog.watch();
    return backlog;
  };

  /** At `ms`, one more packet of `bytes` is queued. */
  const at = (ms: number, bytes = 10): void => {
    now = ms;
    connection.queue(bytes);
  };

  beforeEach(() => {
    now = 0;
    connection = new FakeConnection();
    stalled = [];
  });

  it('counts queued packets and what the WebSocket holds, and forgets a flushed buffer', () => {
    const backlog = watch();
    connection.queue(300);
    connection.queue(200);
    expect(backlog.pending()).toBe(500);
    connection.flushToSocket();
    connection.transport.socket.bufferedAmount = 450;
    expect(backlog.pending()).toBe(450);
  });

  it('gives up on a backlog over the limit that does not shrink for the stall time', () => {
    watch();
    at(0, 1500);
    at(99);
    expect(stalled).toEqual([]);
    at(100);
    expect(stalled).toEqual([1520]);
    at(500);
    expect(stalled).toEqual([1520]); // once
  });

  it('keeps a socket whose backlog shrinks (a large packet going out to a reader)', () => {
    watch();
    connection.queue(5000);
    connection.flushToSocket();
    for (let step = 1; step <= 10; step++) {
      connection.transport.socket.bufferedAmount = 5000 - step * 400;
      at(step * 80);
    }
    expect(stalled).toEqual([]);
  });

  it('starts over when the backlog falls under the limit', () => {
    watch();
    at(0, 1500);
    connection.flushToSocket();
    at(90); // under the limit again: the stall clock stops
    at(90, 2000);
    at(150);
    expect(stalled).toEqual([]);
    at(190);
    expect(stalled).toEqual([2030]);
  });
});
