import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import type { HermesRunEvent } from '../../hermes/hermes-events';
import { HermesClient, HermesRunRequest } from '../../hermes/hermes.client';
import {
  HermesConnectionError,
  HermesError,
  HermesHttpError,
  HermesProtocolError,
  HermesStreamLostError,
  HermesTimeoutError,
  UnknownProfileError,
} from '../../hermes/hermes.errors';
import { SessionRepository } from '../../sessions/session.repository';
import type { RunFailureCode, RunStateEvent } from '../chat-run.events';
import {
  CompressionService,
  type CompressionListener,
} from '../../compression/compression.service';
import { AppError } from '../../common/errors/app-error';
import { errorMessage } from '../../common/errors/error-message';
import { SessionEmitter } from '../session-emitter';
import type { SessionRuntime } from '../runtime/session-runtime';
import type { HistoryTurn } from '../../content/conversation-history';
import { flattenStoredInput } from '../../content/content-blocks';
import { ActiveRun } from './active-run';
import { upstreamSessionOf, type RunEntity } from './run.entity';
import type { RunOutcome } from './run-outcome';
import { RunFinisher } from './run-finisher';
import { RunStatusFollower } from './run-status-follower';
import { RunStore } from './run.store';
import { transcriptFromStored } from './recovered-transcript';
import { TranscriptWriter } from './transcript-writer';

/**
 * Drives one run from its stored request to its terminal event: stores the user message, builds
 * the history, creates the upstream run, folds and relays its events, and settles it however it
 * ends (completed, failed, aborted, or recovered through the status endpoint when the stream
 * breaks). It never throws: every failure becomes the run's `run.failed`. How a settled run is
 * stored and announced is {@link RunFinisher}'s part.
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger(RunExecutor.name);

  constructor(
    private readonly hermes: HermesClient,
    private readonly sessions: SessionRepository,
    private readonly runs: RunStore,
    private readonly emitter: SessionEmitter,
    private readonly follower: RunStatusFollower,
    private readonly finisher: RunFinisher,
    private readonly compression: CompressionService,
    private readonly config: AppConfig,
  ) {}

  /** Starts the run; resolves with its outcome once its transcript is stored. */
  execute(runtime: SessionRuntime, run: RunEntity): Promise<RunOutcome> {
    const active = this.attach(runtime, run);
    void this.start(runtime, active);
    return this.finisher.finish(runtime, active);
  }

  /** Takes over a run that was active when the previous process stopped. */
  recover(runtime: SessionRuntime, run: RunEntity): Promise<RunOutcome> {
    const active = this.attach(runtime, run);
    active.aborting = run.status === 'aborting';
    void this.resumeFromStore(runtime, active).catch((error: unknown) =>
      active.settle(this.failure(error)),
    );
    return this.finisher.finish(runtime, active);
  }

  /** Abort: ask the upstream to stop, then wait for its terminal event at most `graceMs`. */
  async abort(runtime: SessionRuntime): Promise<void> {
    const active = runtime.activeRun;
    if (!active || active.aborting || active.isSettled) return;
    const graceMs = this.config.chatRun.abortGraceMs;
    active.aborting = true;
    active.abortedAs = active.publicRunId;
    this.announceState(runtime, {
      event: 'abort.started',
      data: { run_id: active.abortedAs, graceMs },
    });
    const grace = setTimeout(() => active.settle({ kind: 'aborted', synced: false }), graceMs);
    void active.outcome.finally(() => clearTimeout(grace));
    await this.runs.update(active.run.id, { status: 'aborting' });
    if (!active.upstreamRunId) {
      // Not created upstream yet: `start` stops whatever its create still starts.
      return active.settle({ kind: 'aborted', synced: true });
    }
    try {
      const stop = await this.hermes.stopRun(active.run.profile, active.upstreamRunId);
      if (stop.outcome === 'finished') active.settle(this.follower.outcomeOf(active, stop.run));
      // Nothing left to wait for when the upstream no longer runs it.
      else if (stop.outcome !== 'stopping') active.settle({ kind: 'aborted', synced: true });
    } catch (error) {
      this.logger.warn(`Stopping run ${active.publicRunId} failed: ${errorMessage(error)}`);
    }
  }

  /** Shutdown: write what streamed and let go of the stream; the upstream run goes on. */
  async detach(runtime: SessionRuntime): Promise<void> {
    const active = runtime.activeRun;
    if (!active) return;
    active.settle({ kind: 'detached' });
    active.detach();
    await active.flush();
  }

  /** Stores the user message, creates the upstream run and relays its events. */
  private async start(runtime: SessionRuntime, active: ActiveRun): Promise<void> {
    const { run } = active;
    try {
      if (run.userMessageId === null) {
        const [userMessage] = await this.sessions.appendMessages(run.sessionId, [
          { role: 'user', content: run.input, runId: run.id },
        ]);
        run.userMessageId = userMessage.id;
        await this.runs.update(run.id, { userMessageId: userMessage.id });
      }
      if (active.isSettled) return;
      const session = await this.sessions.findById(run.sessionId);
      if (!session) throw AppError.unknownSession(run.sessionId);
      const prepared = await this.compression.prepare(
        {
          sessionId: run.sessionId,
          runId: run.id,
          profile: run.profile,
          model: run.model,
          userMessageId: run.userMessageId,
          sessionCreatedAt: session.createdAt,
        },
        this.compressionListener(runtime),
        runtime.history,
      );
      active.preparedEstimate = prepared.estimate;
      if (active.isSettled) return;
      this.emitter.toSession(run.sessionId, 'usage.updated', prepared.estimate);
      const created = await this.hermes.createRun(
        run.profile,
        this.upstreamRequest(run, session.workspace, prepared.history),
        // The run's own id: a create retried (or repeated after a restart) never starts twice.
        run.id,
        { attempts: 3 },
      );
      active.upstreamRunId = created.runId;
      if (active.isSettled) {
        // Aborted or detached while the create was in flight: stop what it started.
        await this.hermes.stopRun(run.profile, created.runId).catch(() => undefined);
        return;
      }
      await this.runs.update(run.id, {
        status: active.aborting ? 'aborting' : 'running',
        upstreamRunId: created.runId,
      });
      this.logger.log(`Run ${run.id} of ${run.sessionId} started upstream as ${created.runId}`);
      this.emitter.toSession(run.sessionId, 'run.started', {
        run_id: created.runId,
        status: created.status,
        queue_length: await this.runs.countQueued(run.sessionId),
      });
      this.consume(runtime, active);
    } catch (error) {
      active.settle(this.failure(error));
    }
  }

  /**
   * After a restart: the run's stored messages become its transcript again; a run the upstream
   * has is followed through its status, one that may not have been created yet is created again
   * with the same idempotency key (the upstream answers with the run it already has, if any).
   */
  private async resumeFromStore(runtime: SessionRuntime, active: ActiveRun): Promise<void> {
    const { run } = active;
    const stored = (
      await this.sessions.messagesAfter(run.sessionId, run.userMessageId ?? 0)
    ).filter((message) => message.runId === run.id && message.role !== 'user');
    active.transcript = transcriptFromStored(active.transcript.runId, stored);
    active.writer.adopt(stored, active.transcript.messages);
    if (run.upstreamRunId) active.settle(await this.follower.follow(active));
    else await this.start(runtime, active);
  }

  /**
   * The `POST /v1/runs` body. It is a function of stored state (the history comes from the
   * stored transcript and snapshot), so a create repeated after a restart is identical.
   */
  private upstreamRequest(
    run: RunEntity,
    workspace: string | null,
    history: HistoryTurn[],
  ): HermesRunRequest {
    return {
      input: flattenStoredInput(run.input),
      session_id: upstreamSessionOf(run),
      ...(run.model ? { model: run.model } : {}),
      instructions: this.instructions(run.instructions, workspace),
      conversation_history: history,
    };
  }

  private compressionListener(runtime: SessionRuntime): CompressionListener {
    return {
      started: (data) => this.announceState(runtime, { event: 'compression.started', data }),
      completed: (data) => this.announceState(runtime, { event: 'compression.completed', data }),
    };
  }

  /** To the room, and kept with the run for the `events` of a resuming client. */
  private announceState(runtime: SessionRuntime, state: RunStateEvent): void {
    runtime.setStateEvent(state);
    this.emitter.toSessionState(runtime.sessionId, state);
  }

  private attach(runtime: SessionRuntime, run: RunEntity): ActiveRun {
    const writer = new TranscriptWriter(this.sessions, run.sessionId, run.id);
    const active = new ActiveRun(run, writer, (error) =>
      this.logger.warn(`Writing the transcript of run ${run.id} failed: ${errorMessage(error)}`),
    );
    runtime.activeRun = active;
    runtime.stateEvents = [];
    return active;
  }

  /** Relays the upstream stream; the hot path per delta is fold + one emit. */
  private consume(runtime: SessionRuntime, active: ActiveRun): void {
    if (active.isSettled) return;
    active.subscription = this.hermes
      .runEvents(active.run.profile, active.upstreamRunId!)
      .subscribe({
        next: (event) => this.onEvent(runtime, active, event),
        error: (error: unknown) => {
          if (active.aborting) return active.settle({ kind: 'aborted', synced: false });
          this.logger.warn(
            `Stream of run ${active.upstreamRunId} lost (${errorMessage(error)}); following its status`,
          );
          void this.follower.follow(active).then((outcome) => active.settle(outcome));
        },
      });
  }

  private onEvent(runtime: SessionRuntime, active: ActiveRun, event: HermesRunEvent): void {
    if (
      event.type === 'run.completed' ||
      event.type === 'run.failed' ||
      event.type === 'run.cancelled'
    ) {
      active.fold(event);
      // While aborting, the upstream's own terminal event is not forwarded (abort.completed is).
      if (active.aborting) return active.settle({ kind: 'aborted', synced: true });
      return active.settle(terminalOutcome(event));
    }
    active.fold(event);
    this.emitter.forward(runtime.sessionId, event.payload.event, event.payload);
  }

  private instructions(client: string | null, workspace: string | null): string {
    return [
      workspace ? `[Current working directory: ${workspace}]` : '',
      this.config.chatRun.systemPrompt,
      client ?? '',
    ]
      .filter((part) => part.length > 0)
      .join('\n');
  }

  private failure(error: unknown): RunOutcome {
    const [code, message] = classify(error);
    if (code === 'internal_error')
      this.logger.error(`Run failed unexpectedly: ${errorMessage(error)}`);
    return { kind: 'failed', error: message, code };
  }
}

function terminalOutcome(event: HermesRunEvent): RunOutcome {
  switch (event.type) {
    case 'run.completed':
      return { kind: 'completed', payload: event.payload };
    case 'run.failed':
      return { kind: 'failed', error: event.payload.error, code: 'upstream_error' };
    default:
      return { kind: 'failed', error: 'The run was cancelled upstream', code: 'upstream_error' };
  }
}

function classify(error: unknown): [RunFailureCode, string] {
  if (error instanceof UnknownProfileError) return ['unknown_profile', error.message];
  if (error instanceof HermesHttpError) {
    const unavailable = error.status === 429 || error.status === 503;
    return [
      unavailable ? 'upstream_unavailable' : 'upstream_error',
      `Upstream ${error.status}: ${error.body}`,
    ];
  }
  if (error instanceof HermesProtocolError) return ['protocol_error', error.message];
  if (error instanceof HermesConnectionError || error instanceof HermesTimeoutError) {
    return ['upstream_unavailable', error.message];
  }
  if (error instanceof HermesStreamLostError) return ['stream_lost', error.message];
  if (error instanceof HermesError) return ['upstream_error', error.message];
  return ['internal_error', 'The run failed because of an internal error'];
}
