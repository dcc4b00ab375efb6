import type { HoldWatcher, SessionLeases } from '../../cluster/session-leases';
import type { ChatNamespace } from '../session-emitter';
import { PEERS_KNOWN_AFTER_MS, RoomInterest } from './room-interest';

/** The instance's own sockets, and what `fetchSockets` (every instance's) answers. */
function setUp() {
  let watcher: HoldWatcher = {};
  const leases = { watch: (w: HoldWatcher) => (watcher = w) } as unknown as SessionLeases;
  const interest = new RoomInterest(leases);
  const local = new Map<string, object>([['here', {}]]);
  let answer: () => Promise<{ id: string }[]> = () => Promise.resolve([{ id: 'here' }]);
  const rooms: string[] = [];
  const namespace = {
    sockets: local,
    in: (room: string) => {
      rooms.push(room);
      return { fetchSockets: () => answer() };
    },
  } as unknown as ChatNamespace;
  return {
    interest,
    rooms,
    bind: () => interest.bind(namespace),
    take: async (sessionId: string, fromLapsed = false) => {
      watcher.taken?.(sessionId, fromLapsed);
      // The question is asynchronous: let it be answered.
      await new Promise((resolve) => setImmediate(resolve));
    },
    end: (sessionId: string, lost: boolean) => watcher.ended?.(sessionId, lost),
    answer: (next: () => Promise<{ id: string }[]>) => (answer = next),
  };
}

describe('RoomInterest', () => {
  let clock = 0;
  beforeEach(() => {
    clock = 1_000_000;
    jest.spyOn(performance, 'now').mockImplementation(() => clock);
  });
  afterEach(() => jest.restoreAllMocks());

  /** Bound, and past the time in which other instances may still be unknown. */
  const settled = (): ReturnType<typeof setUp> => {
    const t = setUp();
    t.bind();
    clock += PEERS_KNOWN_AFTER_MS;
    return t;
  };

  it('keeps a session taken while the other instances may be unknown shared', async () => {
    const t = setUp();
    t.bind();
    clock += PEERS_KNOWN_AFTER_MS - 1;
    await t.take('s1');
    expect(t.interest.isShared('s1')).toBe(true);
    expect(t.rooms).toEqual([]);
  });

  it('keeps a session to itself once every instance says nobody listens elsewhere', async () => {
    const t = settled();
    await t.take('s1');
    expect(t.rooms).toEqual(['session:s1']);
    expect(t.interest.isShared('s1')).toBe(false);
    // Anything else is shared: only a session asked about is kept here.
    expect(t.interest.isShared('s2')).toBe(true);
  });

  it('shares a session with a socket in its room on another instance', async () => {
    const t = settled();
    t.answer(() => Promise.resolve([{ id: 'here' }, { id: 'elsewhere' }]));
    await t.take('s1');
    expect(t.interest.isShared('s1')).toBe(true);
  });

  it('shares it when the question fails (an instance that does not answer)', async () => {
    const t = settled();
    t.answer(() =>
      Promise.reject(new Error('timeout reached: only 0 responses received out of 1')),
    );
    await t.take('s1');
    expect(t.interest.isShared('s1')).toBe(true);
  });

  it('shares it for good from a request of another instance, even one that overtakes the answer', async () => {
    const t = settled();
    let answerNow: (sockets: { id: string }[]) => void = () => undefined;
    t.answer(() => new Promise((resolve) => (answerNow = resolve)));
    const taking = t.take('s1');
    t.interest.shared('s1');
    answerNow([]);
    await taking;
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.interest.isShared('s1')).toBe(true);

    t.answer(() => Promise.resolve([]));
    await t.take('s2');
    expect(t.interest.isShared('s2')).toBe(false);
    t.interest.shared('s2');
    expect(t.interest.isShared('s2')).toBe(true);
  });

  it('forgets a session whose hold ended, and asks again when it is taken again', async () => {
    const t = settled();
    await t.take('s1');
    expect(t.interest.isShared('s1')).toBe(false);
    t.end('s1', false);
    expect(t.interest.isShared('s1')).toBe(true);
    t.answer(() => Promise.resolve([{ id: 'elsewhere' }]));
    await t.take('s1');
    expect(t.interest.isShared('s1')).toBe(true);
  });

  it('keeps a session taken over from a lapsed hold shared (its old holder may only be stalled)', async () => {
    const t = settled();
    t.answer(() => Promise.resolve([]));
    await t.take('s1', true);
    expect(t.rooms).toEqual([]);
    expect(t.interest.isShared('s1')).toBe(true);
  });

  it('stays shared while an instance it knew has gone quiet (it may have been left out)', async () => {
    const t = setUp();
    t.bind();
    t.interest.heard('peer-a');
    t.interest.heard('peer-b');
    clock += PEERS_KNOWN_AFTER_MS + 1;
    t.interest.heard('peer-a');
    t.answer(() => Promise.resolve([]));
    await t.take('s1');
    expect(t.interest.isShared('s1')).toBe(true);
    // Gone for good after a minute: no longer a doubt.
    clock += 60_000;
    t.interest.heard('peer-a');
    await t.take('s2');
    expect(t.interest.isShared('s2')).toBe(false);
  });

  it('asks about every private session again when an instance is heard from anew', async () => {
    const t = settled();
    t.interest.heard('peer-a');
    t.answer(() => Promise.resolve([]));
    await t.take('s1');
    expect(t.interest.isShared('s1')).toBe(false);
    // A newcomer (or one back from a stall) with a socket in the room.
    t.answer(() => Promise.resolve([{ id: 'elsewhere' }]));
    t.interest.heard('peer-new');
    expect(t.interest.isShared('s1')).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.interest.isShared('s1')).toBe(true);
    expect(t.rooms).toEqual(['session:s1', 'session:s1']);
    // A known instance heard from again within its heartbeat asks nothing.
    t.interest.heard('peer-new');
    expect(t.rooms).toHaveLength(2);
  });
});
