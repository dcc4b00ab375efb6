import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppError } from '../../common/errors/app-error';
import { configFor } from '../../config/testing/config-for';
import type { GroupCommit } from '../../database/sql/group-commit';
import { testDatabase, type TestDatabase } from '../../testing/test-database';
import { TranscriptStore } from '../../sessions/transcript.store';
import { TypeOrmSessionRepository } from '../../sessions/typeorm-session.repository';
import { TokenCounter } from '../../tokens/token-counter';
import { UsageStore } from '../../usage/usage.store';
import { EventLog, LoggedEvent } from '../event-log/event-log.service';
import { SessionRuntime } from '../runtime/session-runtime';
import { SessionRuntimes } from '../runtime/session-runtimes';
import { ChatNamespace, SessionEmitter } from '../session-emitter';
import { RunLedger } from './run-ledger';
import type { RunOutcome } from './run-outcome';
import type { RunPipeline } from './run-pipeline';
import type { RunPipelines } from './run-pipelines';
import { RunQueueService, RunRequest } from './run-queue.service';
import { RunStore, type RunRecord } from './run.store';

/** setTimeout's maximum: the event log's flush timer never fires during a test. */
const NEVER = 2 ** 31 - 1;
const HOUR_S = 60 * 60;

jest.setTimeout(5000);

/** Items as they arrive, and a promise for "at least n of them". */
class Recorder<T> {
  readonly items: T[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.items.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  until(count: number): Promise<void> {
    if (this.items.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

type Ending = 'complete' | 'crash';

interface Execution {
  run: RunRecord;
  runtime: SessionRuntime;
  done: Promise<RunOutcome>;
  /** Settles once the upstream would have accepted the run (it is marked running). */
  running: Promise<void>;
  /** Ends the run normally (idempotent with `crash`: the first call wins). */
  finish(): void;
  /** Ends the run, then rejects (a pipeline that broke after its cleanup). */
  crash(): void;
}

/**
 * Stands in for the pipelines the queue launches, with the same contract as a real one: the run
 * is marked running once started, and at its end its record is ended and the session released
 * (`runtime.activeRun` cleared) before `run()` settles. The test decides when and how each run
 * ends.
 */
class ControlledPipelines {
  readonly executions = new Recorder<Execution>();
  /** The next run's `run()` rejects at once. */
  rejectNextAtOnce = false;

  constructor(
    private readonly runs: RunStore,
    private readonly ledger: RunLedger,
    private readonly commit: GroupCommit,
  ) {}

  forSession(runtime: SessionRuntime, run: RunRecord): RunPipeline {
    const ending = deferred<Ending>();
    const running = deferred<void>();
    const rejectAtOnce = this.rejectNextAtOnce;
    this.rejectNextAtOnce = false;
    const execute = async (): Promise<RunOutcome> => {
      if (rejectAtOnce) {
        runtime.activeRun = undefined;
        throw new Error('pipeline refused');
      }
      await this.ledger.started(run, `up_${run.id}`, false, null);
      running.resolve();
      const how = await ending.promise;
      await this.commit.write((tx) =>
        this.runs.end(
          tx,
          run.id,
          how === 'complete'
            ? { status: 'completed' }
            : { status: 'failed', error: 'boom', errorCode: 'internal_error' },
          Date.now() / 1000,
        ),
      );
      runtime.activeRun = undefined;
      if (how === 'crash') throw new Error('pipeline crashed');
      return {
        kind: 'completed',
        payload: { event: 'run.completed', run_id: run.id, timestamp: Date.now() / 1000 },
      };
    };
    let done: Promise<RunOutcome> | undefined;
    const pipeline = {
      run: () => (done ??= execute()),
      detach: () => Promise.resolve({ kind: 'detached' }),
    };
    this.executions.push({
      run,
      runtime,
      get done() {
        return done ?? pipeline.run();
      },
      running: running.promise,
      finish: () => ending.resolve('complete'),
      crash: () => ending.resolve('crash'),
    });
    return pipeline as unknown as RunPipeline;
  }
}

interface Emitted {
  room: string;
  event: string;
  payload: LoggedEvent;
}

/** The part of a Socket.IO namespace the emitter uses. */
interface RecordingNamespace {
  to(room: string): { emit(event: string, payload: LoggedEvent): boolean };
}

describe('RunQueueService (real store, repository, runtimes and event log on SQLite)', () => {
  const tokens = new TokenCounter();
  let db: TestDatabase;
  let dataSource: DataSource;
  let runs: RunStore;
  let sessions: TypeOrmSessionRepository;
  let transcripts: TranscriptStore;
  let ledger: RunLedger;
  let log: EventLog;
  let runtimes: SessionRuntimes;
  let executor: ControlledPipelines;
  let service: RunQueueService;
  let emitted: Emitted[];
  let nexts: Promise<void>[];

  const request = (sessionId: string, queueId?: string, input = `run ${queueId}`): RunRequest => ({
    sessionId,
    profile: 'default',
    input,
    ...(queueId ? { queueId } : {}),
  });

  const queuedEvents = (sessionId: string): number[] =>
    emitted
      .filter((entry) => entry.event === 'run.queued' && entry.payload.session_id === sessionId)
      .map((entry) => entry.payload.queue_length as number);

  const started = (): string[] => executor.executions.items.map((e) => e.run.queueId);

  const execution = (queueId: string): Execution => {
    const found = executor.executions.items.find((e) => e.run.queueId === queueId);
    if (!found) throw new Error(`run ${queueId} was never started`);
    return found;
  };

  const runRows = (sessionId: string) =>
    dataSource.query<{ queue_id: string; status: string }[]>(
      'SELECT queue_id, status FROM runs WHERE session_id = ? ORDER BY created_at, id',
      [sessionId],
    );

  /** Ends every run still going and waits until nothing of the queue runs in the background. */
  async function drain(): Promise<void> {
    for (;;) {
      const count = executor.executions.items.length;
      for (const e of executor.executions.items) e.finish();
      await Promise.allSettled(executor.executions.items.map((e) => e.done));
      // The queue's `.catch().finally(startNext)` runs in microtasks; setImmediate comes after.
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.allSettled(nexts);
      if (executor.executions.items.length === count) return;
    }
  }

  beforeAll(async () => {
    db = await testDatabase();
    dataSource = db.dataSource;
    runs = new RunStore(db.sql);
    sessions = new TypeOrmSessionRepository(dataSource);
    transcripts = new TranscriptStore(db.sql, tokens);
    const usage = new UsageStore(dataSource, db.sql, db.commit, transcripts);
    ledger = new RunLedger(db.commit, runs, transcripts, usage, db.leases);
  });

  /** Stores a queued run the way a previous process left it. */
  const queuedRun = (sessionId: string, queueId: string, input: string) =>
    db.commit.write((tx) =>
      runs.insert(
        tx,
        {
          id: `gw_${queueId}`,
          sessionId,
          queueId,
          profile: 'default',
          input,
          model: null,
          instructions: null,
        },
        null,
        Date.now() / 1000,
      ),
    );

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    await dataSource.query('DELETE FROM sessions');
    log = new EventLog(db.sql, db.commit, transcripts, db.leases, { flushIntervalMs: NEVER });
    const emitter = new SessionEmitter(log);
    runtimes = new SessionRuntimes(log, transcripts, runs, emitter, db.leases, configFor());
    executor = new ControlledPipelines(runs, ledger, db.commit);
    emitted = [];
    const namespace: RecordingNamespace = {
      to: (room) => ({
        emit: (event, payload) => {
          emitted.push({ room, event, payload });
          return true;
        },
      }),
    };
    emitter.bind(namespace as unknown as ChatNamespace);
    service = new RunQueueService(
      runtimes,
      ledger,
      executor as unknown as RunPipelines,
      transcripts,
      runs,
      log,
      emitter,
    );
    nexts = [];
    const startNext = service.startNext.bind(service);
    jest.spyOn(service, 'startNext').mockImplementation((sessionId) => {
      const next = startNext(sessionId);
      nexts.push(next);
      return next;
    });
  });

  afterEach(async () => {
    await drain();
    // As at shutdown: a retry still scheduled (a start that failed) finds the queue closed
    // instead of a closed database.
    service.stopAccepting();
    await log.closeAll();
    jest.restoreAllMocks();
  });

  afterAll(async () => {
    tokens.onModuleDestroy();
    await db?.destroy();
  });

  it('starts the first run and queues the next ones, announcing each new length', async () => {
    expect(await service.submit(request('s1', 'q1'))).toEqual({
      status: 'started',
      queueId: 'q1',
      queueLength: 0,
    });
    expect(await service.submit(request('s1', 'q2'))).toEqual({
      status: 'queued',
      queueId: 'q2',
      queueLength: 1,
    });
    expect(await service.submit(request('s1', 'q3'))).toEqual({
      status: 'queued',
      queueId: 'q3',
      queueLength: 2,
    });

    expect(started()).toEqual(['q1']);
    expect(runtimes.peek('s1')?.isWorking).toBe(true);
    expect(queuedEvents('s1')).toEqual([1, 2]);
    expect(emitted.map((entry) => [entry.room, entry.payload.seq])).toEqual([
      ['session:s1', 1],
      ['session:s1', 2],
    ]);
    expect(await runRows('s1')).toEqual([
      { queue_id: 'q1', status: 'running' },
      { queue_id: 'q2', status: 'queued' },
      { queue_id: 'q3', status: 'queued' },
    ]);
  });

  it('makes a queue_id when the client sends none', async () => {
    const first = await service.submit(request('s1'));
    const second = await service.submit(request('s1'));
    expect(first.queueId).toMatch(/^queue_/);
    expect(second.queueId).toMatch(/^queue_/);
    expect(second.queueId).not.toBe(first.queueId);
    expect(second.status).toBe('queued');
  });

  it('runs queued runs in FIFO order, each after the previous one ended', async () => {
    await service.submit(request('s1', 'q1'));
    await service.submit(request('s1', 'q2'));
    await service.submit(request('s1', 'q3'));

    execution('q1').finish();
    await executor.executions.until(2);
    expect(started()).toEqual(['q1', 'q2']);
    expect(queuedEvents('s1')).toEqual([1, 2, 1]);

    execution('q2').finish();
    await executor.executions.until(3);
    expect(started()).toEqual(['q1', 'q2', 'q3']);
    expect(queuedEvents('s1')).toEqual([1, 2, 1, 0]);
    await execution('q3').running;

    // User messages are stored when a run starts, so the transcript keeps the order runs ran in.
    const { messages } = await sessions.listMessages('s1', { limit: 10 });
    expect(messages.map((message) => message.content)).toEqual(['run q1', 'run q2', 'run q3']);
    const seqs = emitted.map((entry) => entry.payload.seq);
    expect(seqs).toEqual([1, 2, 3, 4]);
  });

  describe('a repeated queue_id', () => {
    it('is a duplicate while queued or running, and starts nothing', async () => {
      await service.submit(request('s1', 'q1'));
      await service.submit(request('s1', 'q2'));
      const emittedBefore = emitted.length;

      expect(await service.submit(request('s1', 'q1', 'again'))).toEqual({
        status: 'duplicate',
        queueId: 'q1',
        queueLength: 1,
      });
      expect(await service.submit(request('s1', 'q2', 'again'))).toEqual({
        status: 'duplicate',
        queueId: 'q2',
        queueLength: 1,
      });

      expect(started()).toEqual(['q1']);
      expect(emitted).toHaveLength(emittedBefore);
      expect(await runRows('s1')).toEqual([
        { queue_id: 'q1', status: 'running' },
        { queue_id: 'q2', status: 'queued' },
      ]);
    });

    it('is a duplicate for 24 h after its run ended, then accepted again', async () => {
      await service.submit(request('s1', 'q1'));
      execution('q1').finish();
      await execution('q1').done;
      await service.submit(request('s1', 'q2'));
      await execution('q2').running;

      expect((await service.submit(request('s1', 'q1'))).status).toBe('duplicate');
      await dataSource.query('UPDATE runs SET ended_at = ? WHERE queue_id = ?', [
        Date.now() / 1000 - 23 * HOUR_S,
        'q1',
      ]);
      expect((await service.submit(request('s1', 'q1'))).status).toBe('duplicate');
      expect(started()).toEqual(['q1', 'q2']);

      await dataSource.query('UPDATE runs SET ended_at = ? WHERE queue_id = ?', [
        Date.now() / 1000 - 25 * HOUR_S,
        'q1',
      ]);
      expect(await service.submit(request('s1', 'q1'))).toEqual({
        status: 'queued',
        queueId: 'q1',
        queueLength: 1,
      });
      // The old record stays; the new one is the one that counts from now on.
      expect(await runRows('s1')).toEqual([
        { queue_id: 'q1', status: 'completed' },
        { queue_id: 'q2', status: 'running' },
        { queue_id: 'q1', status: 'queued' },
      ]);
      expect((await service.submit(request('s1', 'q1'))).status).toBe('duplicate');
    });

    it('is only a duplicate within its own session', async () => {
      await service.submit(request('s1', 'q1'));
      expect((await service.submit(request('s2', 'q1'))).status).toBe('started');
    });
  });

  describe('cancel', () => {
    it('removes a queued run, announces the new length, and the run never starts', async () => {
      await service.submit(request('s1', 'q1'));
      await service.submit(request('s1', 'q2'));
      await service.submit(request('s1', 'q3'));

      expect(await service.cancel('s1', 'q2')).toEqual({ removed: true, queueLength: 1 });
      expect(queuedEvents('s1')).toEqual([1, 2, 1]);

      execution('q1').finish();
      await executor.executions.until(2);
      expect(started()).toEqual(['q1', 'q3']);
      await execution('q3').running;
      expect(await runRows('s1')).toEqual([
        { queue_id: 'q1', status: 'completed' },
        { queue_id: 'q2', status: 'cancelled' },
        { queue_id: 'q3', status: 'running' },
      ]);
    });

    it('removes nothing and emits nothing for an unknown, started or already cancelled run', async () => {
      await service.submit(request('s1', 'q1'));
      await service.submit(request('s1', 'q2'));
      await service.cancel('s1', 'q2');
      const emittedBefore = emitted.length;

      expect(await service.cancel('s1', 'nope')).toEqual({ removed: false, queueLength: 0 });
      expect(await service.cancel('s1', 'q1')).toEqual({ removed: false, queueLength: 0 });
      expect(await service.cancel('s1', 'q2')).toEqual({ removed: false, queueLength: 0 });
      expect(emitted).toHaveLength(emittedBefore);
      expect(started()).toEqual(['q1']);
    });

    // BUG (run-queue.service.ts, cancel): on a session that does not exist, `runtimes.acquire`
    // opens its event log, whose head row violates the foreign key; the raw QueryFailedError
    // reaches the gateway, which answers `internal_error` (and logs a stack) instead of
    // `unknown_session` or `removed: false`. `it.failing` passes while the bug is there.
    it('answers a cancel on an unknown session with a coded error or removed: false', async () => {
      const answer = await service.cancel('ghost', 'q1').then(
        (result) => result,
        (error: unknown) => (error instanceof AppError ? error.code : error),
      );
      expect(['unknown_session', { removed: false, queueLength: 0 }]).toContainEqual(answer);
    });
  });

  describe('a run that fails', () => {
    it('hands over to the next queued run when the executor rejects after its cleanup', async () => {
      const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      await service.submit(request('s1', 'q1'));
      await service.submit(request('s1', 'q2'));

      execution('q1').crash();
      await executor.executions.until(2);

      expect(started()).toEqual(['q1', 'q2']);
      expect(error).toHaveBeenCalledWith(expect.stringMatching(/^Run gw_\w+ of s1 crashed/));
    });

    it('hands over even when a launch rejects at once, without marking the session busy', async () => {
      jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      await service.submit(request('s1', 'q1'));
      await service.submit(request('s1', 'q2'));
      await service.submit(request('s1', 'q3'));

      executor.rejectNextAtOnce = true;
      execution('q1').finish();
      // q2's launch rejects; its hand-over starts q3.
      await executor.executions.until(3);
      expect(started()).toEqual(['q1', 'q2', 'q3']);
      expect(queuedEvents('s1')).toEqual([1, 2, 1, 0]);
      // The broken run is recorded failed: it neither holds the session nor returns at restart.
      await execution('q3').running;
      expect(await runRows('s1')).toEqual([
        { queue_id: 'q1', status: 'completed' },
        { queue_id: 'q2', status: 'failed' },
        { queue_id: 'q3', status: 'running' },
      ]);
    });
  });

  it('runs two sessions at the same time', async () => {
    expect((await service.submit(request('s1', 'a'))).status).toBe('started');
    expect((await service.submit(request('s2', 'b'))).status).toBe('started');
    await executor.executions.until(2);

    expect(runtimes.peek('s1')?.isWorking).toBe(true);
    expect(runtimes.peek('s2')?.isWorking).toBe(true);
    // Ending one session's run leaves the other running.
    execution('a').finish();
    await execution('a').done;
    expect(runtimes.peek('s1')?.isWorking).toBe(false);
    expect(runtimes.peek('s2')?.isWorking).toBe(true);
  });

  it('serialises concurrent submits for one session (one start, distinct queue lengths)', async () => {
    const answers = await Promise.all(
      ['c1', 'c2', 'c3', 'c4', 'c5'].map((queueId) =>
        service.submit(request('fresh', queueId, `text ${queueId}`)),
      ),
    );

    expect(answers.filter((answer) => answer.status === 'started')).toHaveLength(1);
    const lengths = answers
      .filter((answer) => answer.status === 'queued')
      .map((answer) => answer.queueLength)
      .sort();
    expect(lengths).toEqual([1, 2, 3, 4]);
    expect(queuedEvents('fresh').sort()).toEqual([1, 2, 3, 4]);
    expect(started()).toHaveLength(1);
    expect(await sessions.findById('fresh')).not.toBeNull();
  });

  describe('shutdown', () => {
    it('refuses new runs with shutting_down after stopAccepting', async () => {
      service.stopAccepting();

      const refusal = await service.submit(request('s1', 'q1')).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refusal).toBeInstanceOf(AppError);
      expect(refusal).toMatchObject({ code: 'shutting_down', status: 503 });
      expect(await sessions.findById('s1')).toBeNull();
      expect(started()).toEqual([]);
    });

    it('leaves queued runs queued (for the next process) once it stops accepting', async () => {
      await service.submit(request('s1', 'q1'));
      await service.submit(request('s1', 'q2'));
      service.stopAccepting();

      execution('q1').finish();
      await drain();

      expect(started()).toEqual(['q1']);
      expect(await runRows('s1')).toEqual([
        { queue_id: 'q1', status: 'completed' },
        { queue_id: 'q2', status: 'queued' },
      ]);
    });
  });

  describe('startNext', () => {
    it('does nothing when the queue is empty', async () => {
      await sessions.create({ id: 'idle' });
      await service.startNext('idle');
      expect(started()).toEqual([]);
      expect(emitted).toEqual([]);
    });

    it('does nothing while a run is active', async () => {
      await service.submit(request('s1', 'q1'));
      await service.submit(request('s1', 'q2'));
      const emittedBefore = emitted.length;

      await service.startNext('s1');

      expect(started()).toEqual(['q1']);
      expect(emitted).toHaveLength(emittedBefore);
    });

    it('starts a queue left behind by a previous process', async () => {
      await sessions.create({ id: 'left' });
      await queuedRun('left', 'q-left', 'left behind');

      await service.startNext('left');

      expect(started()).toEqual(['q-left']);
      expect(queuedEvents('left')).toEqual([0]);
    });

    // Both callers of startNext drop its promise (`void this.startNext(...)`): a database error
    // must not become an unhandled rejection (which ends the process), and the queue must not
    // be wedged; the start is retried with backoff instead.
    it('never rejects from startNext, whose callers drop its promise', async () => {
      await sessions.create({ id: 'left' });
      await queuedRun('left', 'q-left', 'left behind');
      jest.spyOn(ledger, 'begin').mockRejectedValueOnce(new Error('database is locked'));

      const outcome = await service.startNext('left').then(
        () => 'resolved',
        (error: unknown) => `rejected: ${String(error)}`,
      );

      expect(outcome).toBe('resolved');
    });
  });

  describe('the session', () => {
    it('is created by its first run, titled from the text, and not renamed later', async () => {
      const text = 'Hello\n\n  world\t' + 'x'.repeat(200);
      await service.submit({
        sessionId: 'new',
        profile: 'work',
        model: 'm-1',
        input: text,
        queueId: 'q1',
      });
      await service.submit(request('new', 'q2', 'A different text'));
      execution('q1').finish();
      await executor.executions.until(2);

      const session = await sessions.findById('new');
      const expected = 'Hello world ' + 'x'.repeat(88);
      expect(session).toMatchObject({
        profile: 'work',
        model: 'm-1',
        title: expected,
        preview: expected,
      });
      expect(session?.title).toHaveLength(100);
    });

    it('is titled from the text blocks of a block input, and untitled without text', async () => {
      await service.submit({
        sessionId: 'blocks',
        profile: 'default',
        input: [
          { type: 'text', text: 'Look at' },
          { type: 'image', name: 'a.png', path: '/tmp/a.png', media_type: 'image/png' },
          { type: 'text', text: 'this' },
        ],
      });
      await service.submit({
        sessionId: 'image-only',
        profile: 'default',
        input: [{ type: 'image', name: 'a.png', path: '/tmp/a.png', media_type: 'image/png' }],
      });

      expect((await sessions.findById('blocks'))?.title).toBe('Look at this');
      expect((await sessions.findById('image-only'))?.title).toBeNull();
    });

    // BUG (run-queue.service.ts, ensureSession): the title is cut at 100 UTF-16 units, not code
    // points (as makePreview does), so an emoji at the cut leaves a lone surrogate, which the
    // store keeps as U+FFFD. `it.failing` passes while the bug is there; drop it once fixed.
    it('never cuts a character in half at the 100th position of the title', async () => {
      const text = 'a' + '\u{1F600}'.repeat(60);
      await service.submit(request('emoji', 'q1', text));

      const title = (await sessions.findById('emoji'))?.title ?? '';
      expect(title).not.toContain('\uFFFD');
      expect(text.startsWith(title)).toBe(true);
      expect(title.length).toBeGreaterThanOrEqual(99);
    });

    it('keeps a session that already exists as it is', async () => {
      await sessions.create({ id: 'made', title: 'Named by REST', profile: 'default' });
      await service.submit(request('made', 'q1', 'Some text'));
      expect((await sessions.findById('made'))?.title).toBe('Named by REST');
    });
  });
});
