import type { Subscription } from 'rxjs';
import type { HermesRunEvent } from '../../hermes/hermes-events';
import type { ContextEstimate } from '../../sessions/session.types';
import type { RunEntity } from './run.entity';
import type { RunOutcome } from './run-outcome';
import { foldEvent, initialTranscript, RunTranscript } from '../transcript/transcript.reducer';
import type { TranscriptWriter } from './transcript-writer';

/**
 * Partial text reaches the database at most this long after it streamed (the contract asks for
 * about a second). Each flush is a transaction per streaming session, so this sets the write
 * load of a busy server.
 */
export const FLUSH_DELAY_MS = 1000;

/**
 * One run in progress: its folded transcript, the batched writes of it, the upstream
 * subscription and how it ends. The first outcome settles it; later ones are ignored.
 */
export class ActiveRun {
  transcript: RunTranscript;
  upstreamRunId: string | null;
  aborting = false;
  /** The run id `abort.started` named, so that `abort.completed` names the same. */
  abortedAs: string | undefined;
  /** The context estimate its history was prepared with (up to its user message). */
  preparedEstimate: ContextEstimate | undefined;
  subscription: Subscription | undefined;
  readonly outcome: Promise<RunOutcome>;
  private resolveOutcome!: (outcome: RunOutcome) => void;
  private settled = false;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly run: RunEntity,
    readonly writer: TranscriptWriter,
    private readonly onFlushError: (error: unknown) => void,
  ) {
    this.upstreamRunId = run.upstreamRunId;
    this.transcript = initialTranscript(run.upstreamRunId ?? run.id);
    this.outcome = new Promise((resolve) => (this.resolveOutcome = resolve));
  }

  /** The id clients know the run by: the upstream's once it exists. */
  get publicRunId(): string {
    return this.upstreamRunId ?? this.run.id;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /** Folds a streamed event into the transcript and schedules a batched write. */
  fold(event: HermesRunEvent): void {
    const next = foldEvent(this.transcript, event);
    if (next === this.transcript) return;
    this.transcript = next;
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      this.writer.write(this.transcript, false).catch(this.onFlushError);
    }, FLUSH_DELAY_MS);
  }

  /**
   * Closes drafts the upstream never closed (an abort past its grace, a lost run): they end as
   * cancelled or failed, with their partial text.
   */
  closeDrafts(outcome: RunOutcome): void {
    if (this.transcript.status !== 'running') return;
    if (outcome.kind === 'completed' || outcome.kind === 'detached') return;
    const base = { run_id: this.transcript.runId, timestamp: Date.now() / 1000 };
    this.transcript = foldEvent(
      this.transcript,
      outcome.kind === 'aborted'
        ? { type: 'run.cancelled', payload: { ...base, event: 'run.cancelled' } }
        : { type: 'run.failed', payload: { ...base, event: 'run.failed', error: outcome.error } },
    );
  }

  settle(outcome: RunOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveOutcome(outcome);
  }

  /** Stops the stream and pending writes, and writes the final transcript. */
  async close(): Promise<void> {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.writer.write(this.transcript, true);
  }

  /** Stops the stream without a final write (shutdown: the next start recovers the run). */
  detach(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** Writes what streamed so far now (shutdown, resume). */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    return this.writer.write(this.transcript, false);
  }
}
