import type { LoggerService } from '@nestjs/common';
import { catchError, filter, from, lastValueFrom, map, takeUntil, tap } from 'rxjs';
import { AppError } from '../../common/errors/app-error';
import { errorMessage } from '../../common/errors/error-message';
import type { CompressionListener } from '../../compression/compression.events';
import {
  isTerminalEvent,
  type HermesRunEvent,
  type HermesTerminalEvent,
  type RunCompletedPayload,
} from '../../hermes/hermes-events';
import type { HermesClient, HermesRunStatus } from '../../hermes/hermes.client';
import { HermesHttpError } from '../../hermes/hermes.errors';
import type { RunStateEvent } from '../chat-run.events';
import {
  completionAnnotations,
  foldEvent,
  initialTranscript,
  type DraftMessage,
  type RunTranscript,
} from '../transcript/transcript.reducer';
import type { RunAudience } from './run-audience';
import { failed, failureOf, type RunOutcome } from './run-outcome';
import type { RunRecorder, SettledOutcome } from './run-recorder';
import type { FollowedStatus, RunStatusFollower } from './run-status-follower';
import { withFinalOutput } from './recovered-transcript';
import { Settlement } from './settlement';

const DETACHED: RunOutcome = { kind: 'detached' };

/** What a run asks the upstream for; fixed before the run starts. */
export interface RunSpec {
  /** The gateway's run id: the upstream's Idempotency-Key, so a repeated create starts nothing. */
  id: string;
  profile: string;
  /** The user's input as the upstream's `input` text. */
  input: string;
  model: string | null;
  instructions: string;
  /** The upstream session to run in (stored runs use a fresh ephemeral one each). */
  upstreamSession: string | null;
  /** Unix seconds: when the run started (a recovered run keeps its original start). */
  startedAt: number;
  /** Set when recovering a run the upstream already has: it is followed, not created. */
  upstreamRunId: string | null;
  /** The transcript stored so far (a recovered run). */
  transcript: RunTranscript | null;
}

/** The parts of the server every pipeline uses. */
export interface PipelineDeps {
  hermes: HermesClient;
  follower: RunStatusFollower;
  logger: Pick<LoggerService, 'log' | 'warn' | 'error'>;
  abortGraceMs: number;
  maxDurationMs: number;
}

/**
 * One run, from its request to its terminal event; the only owner of its state. It reads top to
 * bottom:
 *
 * 1. **begin**: the history (compression included) → `usage.updated` → `POST /v1/runs` →
 *    `run.started`;
 * 2. **relay**: the upstream's event stream, folded into the transcript and forwarded, until its
 *    terminal event (a lost stream is followed through the status endpoint instead);
 * 3. **finish**: drafts closed, the end stored in one write, the session released, the
 *    terminal event sent last.
 *
 * Several things can end a run besides its stream (an abort's grace running out, the run's
 * time limit, shutdown); a {@link Settlement} takes whichever comes first. What the run stores,
 * and who hears it, are its {@link RunRecorder} and {@link RunAudience}: a session-less run goes
 * through the same flow with a recorder that keeps nothing.
 */
export class RunPipeline {
  private transcript: RunTranscript;
  private upstreamRunId: string | null;
  /** The run id `abort.started` named (so that `abort.completed` names the same). */
  private abortedAs: string | null = null;
  private readonly settlement = new Settlement<RunOutcome>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly spec: RunSpec,
    private readonly deps: PipelineDeps,
    private readonly recorder: RunRecorder,
    private readonly audience: RunAudience,
  ) {
    this.upstreamRunId = spec.upstreamRunId;
    this.transcript = spec.transcript ?? initialTranscript(spec.upstreamRunId ?? spec.id);
  }

  /** The id clients know the run by: the upstream's once it exists. */
  get publicRunId(): string {
    return this.upstreamRunId ?? this.spec.id;
  }

  get isAborting(): boolean {
    return this.abortedAs !== null;
  }

  /** The gateway's id of the run (its messages' `run_id`). */
  get runId(): string {
    return this.spec.id;
  }

  /** Store ids of the drafts written so far, by draft index. */
  get storedIds(): readonly number[] {
    return this.recorder.storedIds();
  }

  /** The run's messages so far, as folded (a resuming client sees them). */
  get drafts(): readonly DraftMessage[] {
    return this.transcript.messages;
  }

  /** Runs the whole flow; resolves with how the run ended, once its terminal event went out. */
  run(): Promise<RunOutcome> {
    const elapsedMs = Date.now() - this.spec.startedAt * 1000;
    this.after(this.deps.maxDurationMs - elapsedMs, () => this.timedOut());
    this.work().then(
      (outcome) => this.settlement.offer(outcome),
      (error: unknown) => this.settlement.offer(this.failure(error)),
    );
    return this.settlement.value.then((outcome) => this.finish(outcome));
  }

  /** Abort: ask the upstream to stop, then wait for its terminal event at most `graceMs`. */
  async abort(): Promise<void> {
    if (this.abortedAs !== null || this.settlement.isSettled) return;
    const graceMs = this.deps.abortGraceMs;
    this.abortedAs = this.publicRunId;
    this.state({ event: 'abort.started', data: { run_id: this.abortedAs, graceMs } });
    this.after(graceMs, () => this.settlement.offer({ kind: 'aborted', synced: false }));
    this.recorder.aborting();
    const runId = this.upstreamRunId;
    // Not created upstream yet: `begin` stops whatever its create still starts.
    if (!runId) return void this.settlement.offer({ kind: 'aborted', synced: true });
    try {
      const stop = await this.deps.hermes.stopRun(this.spec.profile, runId);
      if (stop.outcome === 'finished') this.settlement.offer(this.outcomeOfStatus(stop.run));
      // Nothing left to wait for when the upstream no longer runs it.
      else if (stop.outcome !== 'stopping')
        this.settlement.offer({ kind: 'aborted', synced: true });
    } catch (error) {
      this.deps.logger.warn(`Stopping run ${runId} failed: ${errorMessage(error)}`);
    }
  }

  /** `approval.respond`: answers the run's pending approval through the upstream. */
  async respondToApproval(choice: string, requestId?: string): Promise<void> {
    const noPending = new AppError(
      'no_pending_approval',
      'The run is not waiting for approval',
      409,
    );
    if (!this.upstreamRunId || this.settlement.isSettled) throw noPending;
    try {
      await this.deps.hermes.respondToApproval(
        this.spec.profile,
        this.upstreamRunId,
        choice,
        requestId,
      );
    } catch (error) {
      // The upstream's own "nothing pending" (409) or "unknown run" (404).
      if (error instanceof HermesHttpError && (error.status === 404 || error.status === 409)) {
        throw noPending;
      }
      throw error;
    }
  }

  /**
   * Shutdown: writes what streamed and lets go of the stream; the upstream run goes on and the
   * next start recovers it.
   */
  detach(): Promise<RunOutcome> {
    this.settlement.offer({ kind: 'detached' });
    return this.settlement.value;
  }

  /** Nobody is left to hear a session-less run: it is stopped upstream rather than left alone. */
  abandon(): void {
    if (!this.settlement.offer({ kind: 'detached' }) || !this.upstreamRunId) return;
    void this.deps.hermes.stopRun(this.spec.profile, this.upstreamRunId).catch(() => undefined);
  }

  /** Writes what streamed so far now (a resuming client reads it from the store). */
  flush(): Promise<void> {
    return this.recorder.flush(this.transcript);
  }

  // --- 1. begin ---------------------------------------------------------------------------------

  private async work(): Promise<RunOutcome> {
    if (this.upstreamRunId) return this.interpret(await this.follow(this.upstreamRunId));
    const runId = await this.begin();
    return runId === null ? DETACHED : this.relay(runId);
  }

  /** History, `POST /v1/runs`, `run.started`. Null when the run was settled meanwhile. */
  private async begin(): Promise<string | null> {
    const history = await this.recorder.history(this.compressionListener());
    if (this.settlement.isSettled) return null;
    if (history.estimate) this.audience.emit('usage.updated', history.estimate);
    const { spec } = this;
    const created = await this.deps.hermes.createRun(
      spec.profile,
      {
        input: spec.input,
        ...(spec.upstreamSession ? { session_id: spec.upstreamSession } : {}),
        ...(spec.model ? { model: spec.model } : {}),
        instructions: spec.instructions,
        ...(history.turns ? { conversation_history: history.turns } : {}),
      },
      spec.id,
      { attempts: 3 },
    );
    this.upstreamRunId = created.runId;
    if (this.settlement.isSettled) {
      // Aborted, timed out or detached while the create was in flight: stop what it started.
      await this.deps.hermes.stopRun(spec.profile, created.runId).catch(() => undefined);
      return null;
    }
    this.recorder.started(created.runId, this.isAborting);
    this.deps.logger.log(`Run ${spec.id} started upstream as ${created.runId}`);
    this.audience.emit('run.started', {
      run_id: created.runId,
      status: created.status,
      queue_length: this.recorder.queueLength(),
    });
    return created.runId;
  }

  // --- 2. relay ---------------------------------------------------------------------------------

  /** The hot path per event: fold, forward. The terminal event becomes the outcome. */
  private relay(runId: string): Promise<RunOutcome> {
    return lastValueFrom(
      this.deps.hermes.runEvents(this.spec.profile, runId).pipe(
        takeUntil(this.settlement.settled$),
        tap((event) => this.fold(event)),
        tap((event) => {
          if (!isTerminalEvent(event)) this.audience.forward(event);
        }),
        filter(isTerminalEvent),
        map((event) => this.terminalOutcome(event)),
        catchError((error: unknown) => from(this.streamLost(runId, error))),
      ),
      // Settled by something else: that outcome is the one that counts.
      { defaultValue: DETACHED },
    );
  }

  private fold(event: HermesRunEvent): void {
    const next = foldEvent(this.transcript, event);
    if (next === this.transcript) return;
    this.transcript = next;
    this.recorder.changed(next);
  }

  private terminalOutcome(event: HermesTerminalEvent): RunOutcome {
    // While aborting, the upstream's own terminal event is not forwarded (abort.completed is).
    if (this.isAborting) return { kind: 'aborted', synced: true };
    switch (event.type) {
      case 'run.completed':
        return { kind: 'completed', payload: event.payload };
      case 'run.failed':
        return failed('upstream_error', event.payload.error);
      default:
        return failed('upstream_error', 'The run was cancelled upstream');
    }
  }

  /** The stream broke without a terminal event: the upstream may well finish the run anyway. */
  private async streamLost(runId: string, error: unknown): Promise<RunOutcome> {
    if (this.isAborting) return { kind: 'aborted', synced: false };
    this.deps.logger.warn(
      `Stream of run ${runId} lost (${errorMessage(error)}); following its status`,
    );
    return this.interpret(await this.follow(runId));
  }

  private follow(runId: string): Promise<FollowedStatus> {
    return this.deps.follower.follow(this.spec.profile, runId, () => this.settlement.isSettled);
  }

  /** What the status endpoint's answer means for the run. */
  private interpret(found: FollowedStatus): RunOutcome {
    switch (found.kind) {
      case 'final':
        return this.outcomeOfStatus(found.status);
      case 'unknown':
        return failed(
          'interrupted',
          'The upstream no longer knows this run; the reply is incomplete',
        );
      case 'unreachable':
        return failed('upstream_unavailable', `The upstream cannot be reached: ${found.reason}`);
      case 'timeout':
        return failed('stream_lost', 'The run did not finish in time after its stream was lost');
      case 'stopped':
        return { kind: 'detached' };
    }
  }

  /** A final status as the run's outcome; a completed run's output completes the transcript. */
  private outcomeOfStatus(status: HermesRunStatus): RunOutcome {
    if (status.status === 'completed') {
      const payload: RunCompletedPayload = {
        event: 'run.completed',
        run_id: status.run_id,
        timestamp: status.updated_at ?? Date.now() / 1000,
        ...(typeof status.output === 'string' ? { output: status.output } : {}),
        ...(status.usage ? { usage: status.usage } : {}),
      };
      this.transcript = withFinalOutput(this.transcript, payload);
      return this.isAborting ? { kind: 'aborted', synced: true } : { kind: 'completed', payload };
    }
    if (this.isAborting) return { kind: 'aborted', synced: true };
    switch (status.status) {
      case 'cancelled':
        return failed('upstream_error', 'The run was cancelled upstream');
      case 'interrupted':
        return failed('interrupted', 'The upstream restarted before the run finished');
      default:
        return failed('upstream_error', status.error ?? 'The run failed upstream');
    }
  }

  // --- 3. finish --------------------------------------------------------------------------------

  private async finish(outcome: RunOutcome): Promise<RunOutcome> {
    for (const timer of this.timers) clearTimeout(timer);
    if (outcome.kind === 'detached') {
      try {
        await this.recorder.flush(this.transcript);
      } catch (error) {
        this.deps.logger.warn(`Writing run ${this.spec.id} failed: ${errorMessage(error)}`);
      }
      return outcome;
    }
    this.closeDrafts(outcome);
    let final: SettledOutcome = outcome;
    let estimate = null;
    try {
      estimate = await this.recorder.settle(this.transcript, outcome);
    } catch (error) {
      this.deps.logger.error(
        `Storing the end of run ${this.spec.id} failed: ${errorMessage(error)}`,
      );
      final = failed('storage_error', 'The reply could not be stored');
    }
    this.recorder.release();
    if (estimate) this.audience.emit('usage.updated', estimate);
    this.announce(final, this.recorder.queueLength());
    this.deps.logger.log(`Run ${this.spec.id} ended: ${final.kind}`);
    this.recorder.after(final);
    return final;
  }

  /**
   * Closes drafts the upstream never closed (an abort past its grace, a lost run, a limit):
   * they end as cancelled or failed, with their partial text.
   */
  private closeDrafts(outcome: SettledOutcome): void {
    if (this.transcript.status !== 'running' || outcome.kind === 'completed') return;
    const base = { run_id: this.transcript.runId, timestamp: Date.now() / 1000 };
    this.transcript = foldEvent(
      this.transcript,
      outcome.kind === 'aborted'
        ? { type: 'run.cancelled', payload: { ...base, event: 'run.cancelled' } }
        : { type: 'run.failed', payload: { ...base, event: 'run.failed', error: outcome.error } },
    );
  }

  /** The run's last event. */
  private announce(outcome: SettledOutcome, queued: number): void {
    const runId = this.publicRunId;
    switch (outcome.kind) {
      case 'completed':
        return this.audience.emit('run.completed', {
          ...outcome.payload,
          ...completionAnnotations(this.transcript, outcome.payload),
          run_id: runId,
          queue_remaining: queued,
        });
      case 'failed':
        return this.audience.emit('run.failed', {
          run_id: runId,
          error: outcome.error,
          code: outcome.code,
          queue_remaining: queued,
          // Unix seconds, as the upstream's own run.failed carries (clients read it).
          timestamp: Date.now() / 1000,
        });
      case 'aborted':
        return this.audience.emit('abort.completed', {
          run_id: this.abortedAs ?? runId,
          synced: outcome.synced,
          // Counts the run about to start, as clients written for the reference expect.
          ...(queued > 0 ? { queue_length: queued } : {}),
        });
    }
  }

  // --- helpers ----------------------------------------------------------------------------------

  /** The run's time limit: its partial reply is kept, and the upstream is asked to stop. */
  private timedOut(): void {
    const limit = this.deps.maxDurationMs;
    if (!this.settlement.offer(failed('run_timeout', `The run took longer than ${limit} ms`))) {
      return;
    }
    if (this.upstreamRunId) {
      void this.deps.hermes.stopRun(this.spec.profile, this.upstreamRunId).catch(() => undefined);
    }
  }

  private failure(error: unknown): RunOutcome {
    const outcome = failureOf(error);
    if (outcome.code === 'internal_error') {
      this.deps.logger.error(`Run ${this.spec.id} failed unexpectedly: ${errorMessage(error)}`);
    }
    return outcome;
  }

  private state(state: RunStateEvent): void {
    this.audience.state(state);
  }

  private compressionListener(): CompressionListener {
    return {
      started: (data) => this.state({ event: 'compression.started', data }),
      completed: (data) => this.state({ event: 'compression.completed', data }),
    };
  }

  /** A timer cleared when the run finishes. */
  private after(ms: number, action: () => void): void {
    const timer = setTimeout(action, Math.max(0, ms));
    timer.unref();
    this.timers.push(timer);
  }
}
