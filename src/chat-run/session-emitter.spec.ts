import { testDatabase, type TestDatabase } from '../testing/test-database';
import { TranscriptStore } from '../sessions/transcript.store';
import { TokenCounter } from '../tokens/token-counter';
import { DataSource } from 'typeorm';
import { EventLog, LoggedEvent } from './event-log/event-log.service';
import { ChatNamespace, ChatSocket, SessionEmitter, sessionRoom } from './session-emitter';

/** setTimeout's maximum: the log's own flush timer never fires during a test. */
const NEVER = 2 ** 31 - 1;

interface Emitted {
  room: string;
  event: string;
  payload: LoggedEvent;
}

/** The part of a Socket.IO namespace the emitter uses, recording what it is asked to send. */
interface RecordingNamespace {
  to(room: string): { emit(event: string, payload: LoggedEvent): boolean };
}

function fakeNamespace(): { namespace: ChatNamespace; emitted: Emitted[] } {
  const emitted: Emitted[] = [];
  const namespace: RecordingNamespace = {
    to: (room) => ({
      emit: (event, payload) => {
        emitted.push({ room, event, payload });
        return true;
      },
    }),
  };
  return { namespace: namespace as unknown as ChatNamespace, emitted };
}

interface SocketEmit {
  event: string;
  payload: Record<string, unknown>;
}

function fakeSocket(): { socket: ChatSocket; emitted: SocketEmit[] } {
  const emitted: SocketEmit[] = [];
  const socket = {
    emit: (event: string, payload: Record<string, unknown>): boolean => {
      emitted.push({ event, payload });
      return true;
    },
  };
  return { socket: socket as unknown as ChatSocket, emitted };
}

describe('SessionEmitter (real EventLog on SQLite in memory)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const tokens = new TokenCounter();
  let log: EventLog;
  let emitter: SessionEmitter;
  let emitted: Emitted[];

  beforeAll(async () => {
    db = await testDatabase();
    dataSource = db.dataSource;
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM sessions');
    for (const id of ['s1', 's2']) {
      await dataSource.query(
        'INSERT INTO sessions (id, created_at, last_active) VALUES (?, 1, 1)',
        [id],
      );
    }
    log = new EventLog(db.sql, db.commit, new TranscriptStore(db.sql, tokens), db.leases, {
      flushIntervalMs: NEVER,
    });
    emitter = new SessionEmitter(log);
    const fake = fakeNamespace();
    emitted = fake.emitted;
    emitter.bind(fake.namespace);
    await log.open('s1');
    await log.open('s2');
  });

  afterEach(async () => {
    await log.closeAll();
  });

  afterAll(async () => {
    tokens.onModuleDestroy();
    await db?.destroy();
  });

  it('tags room events with event, session_id and a seq per session, to the session room', () => {
    emitter.toSession('s1', 'run.queued', { queue_length: 1 });
    emitter.forward('s1', 'message.delta', { delta: 'a', run_id: 'r1' });
    emitter.toSession('s2', 'run.queued', { queue_length: 2 });
    emitter.forward('s1', 'message.delta', { delta: 'b', run_id: 'r1' });
    emitter.toSession('s2', 'usage.updated', { inputTokens: 3, outputTokens: 4 });

    expect(emitted.map(({ room, event, payload }) => [room, event, payload.seq])).toEqual([
      [sessionRoom('s1'), 'run.queued', 1],
      [sessionRoom('s1'), 'message.delta', 2],
      [sessionRoom('s2'), 'run.queued', 1],
      [sessionRoom('s1'), 'message.delta', 3],
      [sessionRoom('s2'), 'usage.updated', 2],
    ]);
    expect(emitted[0].payload).toEqual({
      queue_length: 1,
      event: 'run.queued',
      session_id: 's1',
      seq: 1,
    });
    expect(emitted[4].payload).toEqual({
      inputTokens: 3,
      outputTokens: 4,
      event: 'usage.updated',
      session_id: 's2',
      seq: 2,
    });
  });

  it('replaces an upstream session_id (and seq) with ours, without touching the upstream object', () => {
    const upstream = {
      event: 'message.delta',
      delta: 'hi',
      run_id: 'r1',
      session_id: 'eph_upstream',
      seq: 99,
    };
    emitter.forward('s1', 'message.delta', upstream);

    expect(emitted[0].payload).toEqual({
      event: 'message.delta',
      delta: 'hi',
      run_id: 'r1',
      session_id: 's1',
      seq: 1,
    });
    expect(emitted[0].payload).not.toBe(upstream);
    expect(upstream.session_id).toBe('eph_upstream');
    expect(upstream.seq).toBe(99);
  });

  it('emits the very object it records, and replay gives the same payloads in order', async () => {
    emitter.toSession('s1', 'run.started', {
      run_id: 'r1',
      gateway_run_id: 'gw_1',
      status: 'started',
      queue_length: 0,
    });
    emitter.forward('s1', 'message.delta', { delta: 'x', run_id: 'r1' });
    emitter.forward('s1', 'tool.started', { tool: 'terminal', run_id: 'r1' });
    const sent = emitted.map((entry) => entry.payload);

    // From memory: the recorded objects are the emitted objects themselves.
    const live = await log.replay('s1', 0);
    expect(live.complete).toBe(true);
    expect(live.events).toHaveLength(3);
    live.events.forEach((event, i) => expect(event).toBe(sent[i]));

    // From storage: equal payloads, same order.
    await log.flush('s1');
    const stored = await log.replay('s1', 0);
    expect(stored.complete).toBe(true);
    expect(stored.events).toEqual(sent);
    expect(stored.events[0]).not.toBe(sent[0]);
  });

  it('records room events even before a namespace is bound', async () => {
    const unbound = new SessionEmitter(log);
    unbound.toSession('s1', 'run.queued', { queue_length: 3 });
    emitter.toSession('s1', 'run.queued', { queue_length: 2 });

    expect(emitted.map((entry) => entry.payload.seq)).toEqual([2]);
    const { events } = await log.replay('s1', 0);
    expect(events.map((event) => [event.seq, event.queue_length])).toEqual([
      [1, 3],
      [2, 2],
    ]);
  });

  it('sends to one socket with event and session_id but no seq, and records nothing', async () => {
    const { socket, emitted: toSocket } = fakeSocket();
    emitter.toSocket(socket, 'run.queued', { queue_length: 0 }, 's1');
    emitter.toSocket(socket, 'message.delta', { delta: 'x', session_id: 'eph_upstream' }, 's1');
    emitter.toSocket(socket, 'message.delta', { delta: 'y' });

    expect(toSocket).toEqual([
      { event: 'run.queued', payload: { queue_length: 0, event: 'run.queued', session_id: 's1' } },
      {
        event: 'message.delta',
        payload: { delta: 'x', event: 'message.delta', session_id: 's1' },
      },
      // Session-less: nothing to tag with.
      { event: 'message.delta', payload: { delta: 'y', event: 'message.delta' } },
    ]);
    expect(emitted).toEqual([]);
    expect(log.latestSeq('s1')).toBe(0);
    expect((await log.replay('s1', 0)).events).toEqual([]);
  });

  it('replays recorded events to one socket as they are', () => {
    emitter.toSession('s1', 'run.queued', { queue_length: 1 });
    emitter.forward('s1', 'message.delta', { delta: 'x' });
    const { socket, emitted: toSocket } = fakeSocket();

    emitter.replay(
      socket,
      emitted.map((entry) => entry.payload),
    );

    expect(toSocket.map((entry) => entry.event)).toEqual(['run.queued', 'message.delta']);
    toSocket.forEach((entry, i) => expect(entry.payload).toBe(emitted[i].payload));
  });

  it('throws for a session whose log is not open, and emits nothing then', async () => {
    await dataSource.query('INSERT INTO sessions (id, created_at, last_active) VALUES (?, 1, 1)', [
      's3',
    ]);

    // The emitter does not open logs: whoever emits must have acquired the session's runtime.
    expect(() => emitter.toSession('s3', 'run.queued', { queue_length: 1 })).toThrow(
      'The event log of session s3 is not open',
    );
    expect(() => emitter.forward('s3', 'message.delta', { delta: 'x' })).toThrow(/not open/);
    expect(emitted).toEqual([]);

    // A closed log is the same: append fails loudly instead of numbering into a closed log.
    await log.close('s1');
    expect(() => emitter.toSession('s1', 'run.queued', { queue_length: 1 })).toThrow(/not open/);
    expect(emitted).toEqual([]);
  });
});
