import { firstValueFrom, lastValueFrom, Observable, take, toArray } from 'rxjs';
import { ReadableStream, ReadableStreamDefaultController } from 'node:stream/web';
import { HermesRunEvent } from './hermes-events';
import { hermesRunEvents, HermesStreamStats, StreamFetch } from './hermes-event-stream';
import { HermesStreamIdleError, HermesStreamLostError } from './hermes.errors';

/** One SSE response whose body the test writes chunk by chunk. */
class ControlledSse {
  readonly requests: { url: string; headers: Record<string, string>; signal?: AbortSignal }[] = [];
  cancelled = false;
  private controller?: ReadableStreamDefaultController<Uint8Array>;
  private readonly encoder = new TextEncoder();
  private connected?: () => void;
  /** Resolves once the client has connected (the body is readable). */
  readonly connection = new Promise<void>((resolve) => (this.connected = resolve));

  constructor(
    private readonly status = 200,
    private readonly contentType = 'text/event-stream',
  ) {}

  readonly fetch: StreamFetch = (url, init) => {
    this.requests.push({ url: String(url), headers: init.headers, signal: init.signal });
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => {
        this.cancelled = true;
      },
    });
    // Like a real connection: aborting the request errors the body.
    init.signal?.addEventListener('abort', () => {
      this.cancelled = true;
      try {
        this.controller?.error(new DOMException('The operation was aborted', 'AbortError'));
      } catch {
        // already closed: nothing to abort
      }
    });
    this.connected?.();
    return Promise.resolve(
      new Response(body as unknown as ConstructorParameters<typeof Response>[0], {
        status: this.status,
        headers: { 'content-type': this.contentType },
      }),
    );
  };

  write(text: string): void {
    this.controller?.enqueue(this.encoder.encode(text));
  }

  send(event: Record<string, unknown>): void {
    this.write(`data: ${JSON.stringify({ run_id: 'run_1', timestamp: 1, ...event })}\n\n`);
  }

  end(): void {
    this.controller?.close();
  }

  fail(error: Error): void {
    this.controller?.error(error);
  }
}

function stream(
  sse: { fetch: StreamFetch },
  overrides: {
    idleTimeoutMs?: number;
    stats?: HermesStreamStats;
    headers?: Record<string, string>;
  } = {},
): Observable<HermesRunEvent> {
  return hermesRunEvents({
    profile: 'default',
    runId: 'run_1',
    url: 'http://upstream.test/v1/runs/run_1/events',
    headers: overrides.headers ?? {},
    idleTimeoutMs: overrides.idleTimeoutMs ?? 5000,
    fetch: sse.fetch,
    stats: overrides.stats,
  });
}

/** Collects everything a subscription produces, and how it ended. */
function record(events$: Observable<HermesRunEvent>) {
  const seen: HermesRunEvent[] = [];
  let onEvent = (): void => undefined;
  const ended = new Promise<{ error?: unknown }>((resolve) => {
    events$.subscribe({
      next: (event) => {
        seen.push(event);
        onEvent();
      },
      error: (error: unknown) => resolve({ error }),
      complete: () => resolve({}),
    });
  });
  /** Resolves once `count` events have been received. */
  const received = (count: number): Promise<void> =>
    new Promise((resolve) => {
      onEvent = () => seen.length >= count && resolve();
      onEvent();
    });
  return { seen, ended, received };
}

describe('hermesRunEvents', () => {
  it('emits events in order, completes after run.completed and closes the connection', async () => {
    const sse = new ControlledSse();
    const { seen, ended } = record(stream(sse));
    await sse.connection;
    sse.send({ event: 'message.delta', delta: 'Hel' });
    sse.send({ event: 'tool.started', tool: 'terminal', preview: 'ls' });
    sse.send({ event: 'message.delta', delta: 'lo' });
    sse.send({ event: 'run.completed', output: 'Hello', usage: { input_tokens: 3 } });
    sse.send({ event: 'message.delta', delta: 'after the end' });

    expect(await ended).toEqual({});
    expect(seen.map((e) => e.type)).toEqual([
      'message.delta',
      'tool.started',
      'message.delta',
      'run.completed',
    ]);
    expect(seen[0].payload).toEqual({
      event: 'message.delta',
      run_id: 'run_1',
      timestamp: 1,
      delta: 'Hel',
    });
    expect(sse.requests[0].signal?.aborted).toBe(true);
  });

  it.each(['run.failed', 'run.cancelled'])('treats %s as terminal', async (terminal) => {
    const sse = new ControlledSse();
    const events = lastValueFrom(stream(sse).pipe(toArray()));
    await sse.connection;
    sse.send({ event: 'status.message', message: 'working' });
    sse.send({ event: terminal, error: 'boom' });
    const result = await events;
    expect(result.map((e) => e.type)).toEqual(['other', terminal]);
  });

  it('skips and counts data lines that are not event objects, without failing', async () => {
    const stats = new HermesStreamStats();
    const sse = new ControlledSse();
    const events = lastValueFrom(stream(sse, { stats }).pipe(toArray()));
    await sse.connection;
    sse.write('data: not json\n\n');
    sse.write('data: [1,2]\n\n');
    sse.write('data: {"no_event": true}\n\n');
    sse.write(
      'data: {"event": "message.delta", "delta": "ok", "run_id": "run_1", "timestamp": 2}\n\n',
    );
    sse.write(': keepalive\n\n');
    sse.send({ event: 'run.completed' });
    const result = await events;
    expect(result.map((e) => e.type)).toEqual(['message.delta', 'run.completed']);
    expect(stats).toMatchObject({ skippedLines: 3, events: 2, opened: 1, completed: 1, lost: 0 });
  });

  it('handles events split across chunks and several events in one chunk', async () => {
    const sse = new ControlledSse();
    const events = lastValueFrom(stream(sse).pipe(toArray()));
    await sse.connection;
    sse.write('data: {"event":"message.delta","del');
    sse.write('ta":"a","run_id":"run_1","timestamp":1}\n');
    sse.write('\ndata: {"event":"message.delta","delta":"b","run_id":"run_1","timestamp":1}\n\n');
    sse.write('data: {"event":"run.cancelled","run_id":"run_1","timestamp":1}\n\n');
    const result = await events;
    expect(result.map((e) => (e.type === 'message.delta' ? e.payload.delta : e.type))).toEqual([
      'a',
      'b',
      'run.cancelled',
    ]);
  });

  it('errors with "stream lost" (ended) when the stream ends without a terminal event', async () => {
    const stats = new HermesStreamStats();
    const sse = new ControlledSse();
    const { seen, ended } = record(stream(sse, { stats }));
    await sse.connection;
    sse.send({ event: 'message.delta', delta: 'x' });
    sse.write(': stream closed\n\n');
    sse.end();
    const { error } = await ended;
    expect(error).toBeInstanceOf(HermesStreamLostError);
    expect(error).toMatchObject({ code: 'hermes_stream_lost', reason: 'ended', eventsSeen: 1 });
    expect(seen).toHaveLength(1);
    expect(stats.lost).toBe(1);
    // No silent reconnect: one request only, and it was closed.
    expect(sse.requests).toHaveLength(1);
    expect(sse.requests[0].signal?.aborted).toBe(true);
  });

  it('errors with "stream lost" (connection_error) when the connection breaks', async () => {
    const sse = new ControlledSse();
    const { ended, received } = record(stream(sse));
    await sse.connection;
    sse.send({ event: 'message.delta', delta: 'x' });
    await received(1);
    sse.fail(new Error('socket hang up'));
    const { error } = await ended;
    expect(error).toBeInstanceOf(HermesStreamLostError);
    expect(error).toMatchObject({ reason: 'connection_error', eventsSeen: 1 });
    expect((error as Error).message).toContain('socket hang up');
  });

  it('errors with "stream lost" (not_found) on a 404', async () => {
    const sse = new ControlledSse(404, 'application/json');
    const { error } = await record(stream(sse)).ended;
    expect(error).toBeInstanceOf(HermesStreamLostError);
    expect(error).toMatchObject({ reason: 'not_found', status: 404, eventsSeen: 0 });
    expect(sse.requests).toHaveLength(1);
  });

  it('errors with "stream lost" (http_error) on another status or content type', async () => {
    const unavailable = await record(stream(new ControlledSse(503))).ended;
    expect(unavailable.error).toMatchObject({ reason: 'http_error', status: 503 });
    const notSse = await record(stream(new ControlledSse(200, 'application/json'))).ended;
    expect(notSse.error).toMatchObject({ reason: 'http_error', status: 200 });
  });

  it('errors with "stream lost" (connection_error) when the connection is refused', async () => {
    const refused: StreamFetch = () =>
      Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') }));
    const { error } = await record(stream({ fetch: refused })).ended;
    expect(error).toBeInstanceOf(HermesStreamLostError);
    expect(error).toMatchObject({ reason: 'connection_error', eventsSeen: 0 });
  });

  it('errors with "stream lost" for a URL it cannot request, leaving no timer behind', async () => {
    const sse = new ControlledSse();
    const events$ = hermesRunEvents({
      profile: 'default',
      runId: 'run_1',
      url: 'not a url',
      headers: {},
      idleTimeoutMs: 10,
      fetch: sse.fetch,
    });
    const { error } = await record(events$).ended;
    expect(error).toMatchObject({ reason: 'connection_error', eventsSeen: 0 });
    expect(sse.requests).toHaveLength(0);
  });

  it('closes the connection when the subscriber unsubscribes', async () => {
    const sse = new ControlledSse();
    const first = firstValueFrom(stream(sse));
    await sse.connection;
    sse.send({ event: 'message.delta', delta: 'only this' });
    expect((await first).type).toBe('message.delta');
    expect(sse.requests[0].signal?.aborted).toBe(true);
    expect(sse.cancelled).toBe(true);
  });

  it('is cold: nothing is requested before subscribing, each subscription connects anew', async () => {
    const sse = new ControlledSse();
    const events$ = stream(sse, { headers: { Authorization: 'Bearer k' } });
    expect(sse.requests).toHaveLength(0);
    const subscription = events$.subscribe();
    await sse.connection;
    expect(sse.requests).toHaveLength(1);
    expect(sse.requests[0].headers).toMatchObject({
      Authorization: 'Bearer k',
      Accept: 'text/event-stream',
    });
    subscription.unsubscribe();
    const again = events$.pipe(take(1)).subscribe();
    expect(sse.requests).toHaveLength(2);
    again.unsubscribe();
  });

  describe('idle timeout', () => {
    beforeEach(() =>
      jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] }),
    );
    afterEach(() => jest.useRealTimers());

    it('errors with HermesStreamIdleError when nothing arrives, and closes the connection', async () => {
      const sse = new ControlledSse();
      const { ended } = record(stream(sse, { idleTimeoutMs: 1000 }));
      await sse.connection;
      sse.send({ event: 'message.delta', delta: 'x' });
      await jest.advanceTimersByTimeAsync(999);
      await jest.advanceTimersByTimeAsync(2);
      const { error } = await ended;
      expect(error).toBeInstanceOf(HermesStreamIdleError);
      expect(error).toMatchObject({ code: 'hermes_stream_idle', reason: 'idle', eventsSeen: 1 });
      expect(sse.requests[0].signal?.aborted).toBe(true);
    });

    it('counts keepalive comments as activity', async () => {
      const sse = new ControlledSse();
      const { seen, ended } = record(stream(sse, { idleTimeoutMs: 1000 }));
      await sse.connection;
      for (let i = 0; i < 5; i++) {
        await jest.advanceTimersByTimeAsync(800);
        sse.write(': keepalive\n\n');
      }
      await jest.advanceTimersByTimeAsync(800);
      sse.send({ event: 'run.completed' });
      expect(await ended).toEqual({});
      expect(seen.map((e) => e.type)).toEqual(['run.completed']);
    });

    it('also bounds the time to connect', async () => {
      const hanging: StreamFetch = (_url, init) =>
        new Promise((_resolve, reject) =>
          init.signal?.addEventListener('abort', () =>
            reject(new DOMException('The operation was aborted', 'AbortError')),
          ),
        );
      const { ended } = record(stream({ fetch: hanging }, { idleTimeoutMs: 500 }));
      await jest.advanceTimersByTimeAsync(501);
      expect((await ended).error).toBeInstanceOf(HermesStreamIdleError);
    });
  });
});
