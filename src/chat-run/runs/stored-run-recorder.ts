import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeaseLostError } from '../../cluster/session-leases';
import { errorMessage } from '../../common/errors/error-message';
import type { CompressionListener } from '../../compression/compression.events';
import { CompressionService, estimateAfterRun } from '../../compression/compression.service';
import { EphemeralSessionCleanup } from '../../hermes/home/ephemeral-session-cleanup';
import type { ContextEstimate } from '../../sessions/session.types';
import { TranscriptStore } from '../../sessions/transcript.store';
import { EventLog } from '../event-log/event-log.service';
import type { SessionRuntime } from '../runtime/session-runtime';
import type { RunTranscript } from '../transcript/transcript.reducer';
import { RunLedger } from './run-ledger';
import type { RunHistory, RunRecorder, SettledOutcome } from './run-recorder';
import { upstreamSessionOf, type RunEnd, type RunRecord } from './run.store';
import type { TranscriptWriter } from './transcript-writer';

/**
 * Partial text reaches the database at most this long after it streamed (the contract asks for
 * about a second). Writes of every streaming session in the same moment share a transaction.
 */
export const FLUSH_DELAY_MS = 1000;

/**
 * How long the terminal event of a run waits while its end cannot be written (a database restart,
 * a failover). Past it, the run is announced as not stored (`storage_error`) and the write goes
 * on: the session's queue waits until it succeeds.
 */
const FINAL_WRITE_WAIT_MS = 30_000;
const FINAL_WRITE_FIRST_BACKOFF_MS = 200;
const FINAL_WRITE_MAX_BACKOFF_MS = 5_000;

/** What a run in a session keeps: the parts of the server behind {@link StoredRunRecorder}. */
@Injectable()
export class StoredRunDeps {
  readonly logger = new Logger('StoredRun');

  constructor(
    readonly ledger: RunLedger,
    readonly transcripts: TranscriptStore,
    readonly compression: CompressionService,
    readonly cleanup: EphemeralSessionCleanup,
    readonly log: EventLog,
  ) {}
}

/** A stored run's starting point. */
export interface StoredRunStart {
  run: RunRecord;
  runtime: SessionRuntime;
  writer: TranscriptWriter;
  /** The session was created with this run (nothing earlier to read). */
  fresh: boolean;
}

/**
 * The recorder of a run in a session: its history comes from the store (through compression and
 * the session's history window); its drafts are written in batches as they stream; its end is
 * one write of reply, record, usage and context estimate, retried until it succeeds, another
 * instance takes the session, or shutdown (the record then stays active, and the next start
 * recovers the run).
 */
export class StoredRunRecorder implements RunRecorder {
  private prepared: ContextEstimate | null = null;
  /** The run exists upstream (its ephemeral session is to be cleaned up after it). */
  private upstreamCreated: boolean;
  private readonly stopping = new AbortController();
  private latest: RunTranscript | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Writes of this run, one at a time and in order. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly start: StoredRunStart,
    private readonly deps: StoredRunDeps,
  ) {
    this.upstreamCreated = start.run.upstreamRunId !== null;
  }

  async history(listener: CompressionListener): Promise<RunHistory> {
    const { run, runtime, fresh } = this.start;
    if (run.userMessageId === null) throw new Error(`Run ${run.id} has no stored user message`);
    const prepared = await this.deps.compression.prepare(
      {
        sessionId: run.sessionId,
        runId: run.id,
        profile: run.profile,
        model: run.model,
        userMessageId: run.userMessageId,
        sessionCreatedAt: runtime.facts?.createdAt ?? 0,
        fresh,
      },
      listener,
      runtime.history,
    );
    this.prepared = prepared.estimate;
    return { turns: prepared.history, estimate: prepared.estimate };
  }

  started(upstreamRunId: string, aborting: boolean): void {
    this.upstreamCreated = true;
    // In this run's order of writes: its end, if it comes early, is written after it.
    this.background(
      this.serialised(() =>
        this.deps.ledger.started(this.start.run, upstreamRunId, aborting, this.prepared),
      ),
      'Recording the start of',
    );
  }

  aborting(): void {
    this.background(
      this.serialised(() => this.deps.ledger.aborting(this.start.run)),
      'Recording the abort of',
    );
  }

  changed(transcript: RunTranscript): void {
    this.latest = transcript;
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      if (this.latest) this.background(this.flush(this.latest), 'Writing the transcript of');
    }, FLUSH_DELAY_MS);
  }

  flush(transcript: RunTranscript): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const { ledger } = this.deps;
    const { writer } = this.start;
    return this.serialised(async () => {
      const write = await writer.plan(transcript, false);
      if (write) await ledger.writeDrafts(writer, write);
    });
  }

  async settle(
    transcript: RunTranscript,
    outcome: SettledOutcome,
    delayed: () => void,
  ): Promise<ContextEstimate> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const announceAt = Date.now() + FINAL_WRITE_WAIT_MS;
    let backoff = FINAL_WRITE_FIRST_BACKOFF_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.serialised(() => this.settleNow(transcript, outcome));
      } catch (error) {
        this.deps.logger.error(
          `Final write of run ${this.start.run.id} failed (attempt ${attempt}): ${errorMessage(error)}`,
        );
        // Its stored messages may be stale now: the next run reads the history afresh.
        this.start.runtime.history.reset();
        // Lost to another instance, which finishes the run; or shutting down.
        if (error instanceof LeaseLostError || this.stopping.signal.aborted) throw error;
        if (Date.now() + backoff > announceAt) delayed();
        await sleep(backoff, undefined, { signal: this.stopping.signal }).catch(() => undefined);
        if (this.stopping.signal.aborted) throw error;
        backoff = Math.min(backoff * 2, FINAL_WRITE_MAX_BACKOFF_MS);
      }
    }
  }

  stop(): void {
    this.stopping.abort();
  }

  storedIds(): readonly number[] {
    return this.start.writer.storedIds;
  }

  queueLength(): number {
    return this.start.runtime.queue.length;
  }

  release(): void {
    const { runtime } = this.start;
    runtime.activeRun = undefined;
    runtime.stateEvents = [];
    runtime.touch();
  }

  after(): void {
    const { run } = this.start;
    // Its ephemeral upstream session is of no use once the run is stored.
    if (this.upstreamCreated) this.deps.cleanup.forget(run.profile, upstreamSessionOf(run));
    // Between runs the log keeps a bounded window of recent events.
    void this.deps.log.trim(run.sessionId);
  }

  private async settleNow(
    transcript: RunTranscript,
    outcome: SettledOutcome,
  ): Promise<ContextEstimate> {
    const { run, writer } = this.start;
    const write = await writer.plan(transcript, true);
    const runMessages = transcript.messages.map((draft, index) => ({
      role: draft.role,
      tokenCount: write?.tokenCounts?.[index] ?? 0,
    }));
    // Without the estimate its history was prepared with (the run ended before that), the
    // stored transcript is added up instead; this run's drafts are stored uncounted so far.
    const before = this.prepared ?? (await this.deps.compression.currentEstimate(run.sessionId));
    const estimate = estimateAfterRun(before, runMessages);
    await this.deps.ledger.settle({
      run,
      transcript: write,
      writer,
      end: endOf(outcome),
      usage:
        outcome.kind === 'completed' && outcome.payload.usage
          ? {
              sessionId: run.sessionId,
              runId: run.id,
              kind: 'run',
              profile: run.profile,
              model: run.model,
              usage: outcome.payload.usage,
            }
          : null,
      estimate,
    });
    return estimate;
  }

  private serialised<T>(write: () => Promise<T>): Promise<T> {
    const next = this.writes.then(write);
    this.writes = next.catch(() => undefined);
    return next;
  }

  private background(write: Promise<unknown>, what: string): void {
    write.catch((error: unknown) =>
      this.deps.logger.warn(`${what} run ${this.start.run.id} failed: ${errorMessage(error)}`),
    );
  }
}

function endOf(outcome: SettledOutcome): RunEnd {
  switch (outcome.kind) {
    case 'completed':
      return { status: 'completed' };
    case 'aborted':
      return { status: 'cancelled', errorCode: 'aborted' };
    case 'failed':
      return {
        status: outcome.code === 'interrupted' ? 'interrupted' : 'failed',
        error: outcome.error,
        errorCode: outcome.code,
      };
  }
}
