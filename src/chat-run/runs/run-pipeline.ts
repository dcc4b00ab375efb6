import { catchError, filter, from, lastValueFrom, map, takeUntil, tap } from 'rxjs';
import { AppError } from '../../common/errors/app-error';
import { errorMessage } from '../../common/errors/error-message';
import type { CompressionListener } from '../../compression/compression.events';
import { isTerminalEvent, type HermesRunEvent } from '../../hermes/hermes-events';
import type { RunStateEvent } from '../chat-run.events';
import {
  foldEvent,
  initialTranscript,
  type DraftMessage,
  type RunTranscript,
} from '../transcript/transcript.reducer';
import type { RunAudience } from './run-audience';
import { closeDrafts, endRun } from './run-ending';
import { failed, failureOf, type RunOutcome } from './run-outcome';
import type { RunMeter } from './run-metrics';
import type { RunRecorder } from './run-recorder';
import type { PipelineDeps, RunSpec } from './run-spec';
import { Settlement } from './settlement';
import {
  outcomeOfTerminalEvent,
  verdictOfFollowed,
  verdictOfStatus,
  type Verdict,
} from './upstream-verdicts';

const DETACHED: RunOutcome = { kind: 'detached' };

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
  private readonly meter: RunMeter;
  /** The whole flow, once {@link run} began it. */
  private done: Promise<RunOutcome> | undefined;

  constructor(
    private readonly spec: RunSpec,
    private readonly deps: PipelineDeps,
    private readonly recorder: RunRecorder,
    private readonly audience: RunAudience,
  ) {
    this.meter = deps.metrics.meter();
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
    this.done = this.settlement.value
      .then((outcome) => this.finish(outcome))
      .then(
        (final) => {
          this.meter.ended(final);
          return final;
        },
        (error: unknown) => {
          // Its owner records and announces the crash.
          this.meter.ended(this.failure(error));
          throw error;
        },
      );
    return this.done;
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
      if (stop.outcome === 'finished') {
        this.settlement.offer(
          this.adopt(verdictOfStatus(stop.run, this.isAborting, this.transcript)),
        );
      }
      // Nothing left to wait for when the upstream no longer runs it.
      else if (stop.outcome !== 'stopping')
        this.settlement.offer({ kind: 'aborted', synced: true });
    } catch (error) {
      this.deps.logger.warn(`Stopping run ${runId} failed: ${errorMessage(error)}`);
    }
  }

  /** `approval.respond`: answers the run's pending approval through the upstream. */
  async respondToApproval(choice: string, requestId?: string): Promise<void> {
    const runId = this.settlement.isSettled ? null : this.upstreamRunId;
    const answered =
      runId !== null &&
      (await this.deps.hermes.respondToApproval(this.spec.profile, runId, choice, requestId)) ===
        'answered';
    if (!answered) {
      throw new AppError('no_pending_approval', 'The run is not waiting for approval', 409);
    }
  }

  /**
   * Shutdown: writes what streamed and lets go of the stream; the upstream run goes on and the
   * next start recovers it.
   */
  detach(): Promise<RunOutcome> {
    this.settlement.offer({ kind: 'detached' });
    this.recorder.stop();
    // Once its writes are done, not merely decided: the database closes after this.
    return this.done ?? this.settlement.value;
  }

  /** Nobody is left to hear a session-less run: it is stopped upstream rather than left alone. */
  abandon(): void {
    if (this.settlement.offer({ kind: 'detached' })) this.stopUpstream();
  }

  /** Writes what streamed so far now (a resuming client reads it from the store). */
  flush(): Promise<void> {
    return this.recorder.flush(this.transcript);
  }

  // --- 1. begin ---------------------------------------------------------------------------------

  private async work(): Promise<RunOutcome> {
    if (this.upstreamRunId) return this.follow(this.upstreamRunId);
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
    // Recorded even if the run ended meanwhile: its end is written after this, and its upstream
    // session is cleaned up after it.
    this.recorder.started(created.runId, this.isAborting);
    if (this.settlement.isSettled) {
      // Aborted, timed out or detached while the create was in flight: stop what it started.
      this.stopUpstream();
      return null;
    }
    this.deps.logger.log(`Run ${spec.id} started upstream as ${created.runId}`);
    this.audience.emit('run.started', {
      run_id: created.runId,
      gateway_run_id: spec.id,
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
          if (isTerminalEvent(event)) return;
          this.audience.forward(event);
          this.meter.forwarded(event);
        }),
        filter(isTerminalEvent),
        map((event) => outcomeOfTerminalEvent(event, this.isAborting)),
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

  /** The stream broke without a terminal event: the upstream may well finish the run anyway. */
  private async streamLost(runId: string, error: unknown): Promise<RunOutcome> {
    if (this.isAborting) return { kind: 'aborted', synced: false };
    this.deps.logger.warn(
      `Stream of run ${runId} lost (${errorMessage(error)}); following its status`,
    );
    return this.follow(runId);
  }

  private async follow(runId: string): Promise<RunOutcome> {
    const found = await this.deps.follower.follow(
      this.spec.profile,
      runId,
      () => this.settlement.isSettled,
    );
    return this.adopt(verdictOfFollowed(found, this.isAborting, this.transcript));
  }

  private adopt(verdict: Verdict): RunOutcome {
    this.transcript = verdict.transcript;
    return verdict.outcome;
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
    this.transcript = closeDrafts(this.transcript, outcome);
    return endRun(
      {
        recorder: this.recorder,
        audience: this.audience,
        logger: this.deps.logger,
        transcript: this.transcript,
        runId: this.publicRunId,
        gatewayRunId: this.spec.id,
        abortedAs: this.abortedAs,
      },
      outcome,
    );
  }

  // --- helpers ----------------------------------------------------------------------------------

  /** The run's time limit: its partial reply is kept, and the upstream is asked to stop. */
  private timedOut(): void {
    const limit = this.deps.maxDurationMs;
    if (this.settlement.offer(failed('run_timeout', `The run took longer than ${limit} ms`))) {
      this.stopUpstream();
    }
  }

  /** Asks the upstream to stop the run, on a best-effort basis (nobody waits for its end). */
  private stopUpstream(): void {
    if (!this.upstreamRunId) return;
    void this.deps.hermes.stopRun(this.spec.profile, this.upstreamRunId).catch(() => undefined);
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
