import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import type { HermesRunEvent, RunCompletedPayload } from '../../hermes/hermes-events';
import { HermesClient, HERMES_FINAL_RUN_STATES, HermesRunStatus } from '../../hermes/hermes.client';
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
import type { RunFailureCode } from '../chat-run.events';
import { EventLog } from '../event-log/event-log.service';
import { SessionEmitter } from '../session-emitter';
import type { SessionRuntime } from '../runtime/session-runtime';
import { toConversationHistory } from '../transcript/conversation-history';
import { flattenStoredInput } from '../transcript/content-blocks';
import { completionAnnotations } from '../transcript/transcript.reducer';
import { ActiveRun } from './active-run';
import type { RunEntity } from './run.entity';
import type { RunOutcome } from './run-outcome';
import { RunStore } from './run.store';
import { transcriptFromStored, withFinalOutput } from './recovered-transcript';
import { TranscriptWriter } from './transcript-writer';

/**
 * Drives one run from its stored request to its terminal event: stores the user message, builds
 * the history, creates the upstream run, folds and relays its events, and settles it however it
 * ends (completed, failed, aborted, or recovered through the status endpoint when the stream
 * breaks). It never throws: every failure becomes the run's `run.failed`.
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger(RunExecutor.name);

  constructor(
    private readonly hermes: HermesClient,
    private readonly sessions: SessionRepository,
    private readonly runs: RunStore,
    private readonly emitter: SessionEmitter,
    private readonly log: EventLog,
    private readonly config: AppConfig,
  ) {}

  /** Starts the run; resolves with its outcome once its transcript is stored. */
  async execute(runtime: SessionRuntime, run: RunEntity): Promise<RunOutcome> {
    const active = this.attach(runtime, run);
    try {
      const [userMessage] = await this.sessions.appendMessages(run.sessionId, [
        { role: 'user', content: run.input, runId: run.id },
      ]);
      await this.runs.update(run.id, { userMessageId: userMessage.id, status: 'starting' });
      const history = await this.sessions.messagesAfter(run.sessionId, 0);
      const session = await this.sessions.findById(run.sessionId);
      const created = await this.hermes.createRun(
        run.profile,
        {
          input: flattenStoredInput(run.input),
          session_id: `eph_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`,
          ...(run.model ? { model: run.model } : {}),
          instructions: this.instructions(run.instructions, session?.workspace ?? null),
          conversation_history: toConversationHistory(history.filter((m) => m.id < userMessage.id)),
        },
        // The run's own id: a create retried after a lost answer never starts a second run.
        run.id,
        { attempts: 3 },
      );
      active.upstreamRunId = created.runId;
      if (active.isSettled) {
        // Aborted while the create was in flight: stop what it started.
        await this.hermes.stopRun(run.profile, created.runId).catch(() => undefined);
        return this.finish(runtime, active);
      }
      await this.runs.update(run.id, { status: 'running', upstreamRunId: created.runId });
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
    return this.finish(runtime, active);
  }

  /** Re-attaches a run that was active when the previous process stopped (poll its status). */
  async recover(runtime: SessionRuntime, run: RunEntity): Promise<RunOutcome> {
    const active = this.attach(runtime, run);
    const stored = (
      await this.sessions.messagesAfter(run.sessionId, run.userMessageId ?? 0)
    ).filter((message) => message.runId === run.id);
    active.transcript = transcriptFromStored(active.transcript.runId, stored);
    active.writer.adopt(stored, active.transcript.messages);
    if (!run.upstreamRunId) {
      // The create may have been admitted upstream: repeating it with the same key finds out.
      active.settle({
        kind: 'failed',
        error: 'The server restarted before the run started',
        code: 'interrupted',
      });
    } else {
      void this.followStatus(active).then((outcome) => active.settle(outcome));
    }
    return this.finish(runtime, active);
  }

  /** Abort: ask the upstream to stop, then wait for its terminal event at most `graceMs`. */
  async abort(runtime: SessionRuntime): Promise<void> {
    const active = runtime.activeRun;
    if (!active || active.aborting) return;
    const graceMs = this.config.chatRun.abortGraceMs;
    active.aborting = true;
    const runId = active.upstreamRunId ?? active.run.id;
    const started = { run_id: runId, graceMs };
    runtime.setStateEvent({ event: 'abort.started', data: started });
    this.emitter.toSession(runtime.sessionId, 'abort.started', started);
    await this.runs.update(active.run.id, { status: 'aborting' });
    if (!active.upstreamRunId) {
      // Not created upstream yet: the start sequence sees `aborting` and settles.
      active.settle({ kind: 'aborted', synced: true });
      return;
    }
    const grace = setTimeout(() => active.settle({ kind: 'aborted', synced: false }), graceMs);
    void active.outcome.finally(() => clearTimeout(grace));
    try {
      const stop = await this.hermes.stopRun(active.run.profile, active.upstreamRunId);
      // Nothing left to wait for when the upstream no longer runs it.
      if (stop.outcome !== 'stopping') active.settle({ kind: 'aborted', synced: true });
    } catch (error) {
      this.logger.warn(`Stopping run ${runId} failed: ${describe(error)}`);
    }
  }

  /** Shutdown: write what streamed and let go of the stream; the upstream run goes on. */
  async detach(runtime: SessionRuntime): Promise<void> {
    const active = runtime.activeRun;
    if (!active) return;
    active.detach();
    await active.flush();
  }

  private attach(runtime: SessionRuntime, run: RunEntity): ActiveRun {
    const writer = new TranscriptWriter(this.sessions, run.sessionId, run.id);
    const active = new ActiveRun(run, writer, (error) =>
      this.logger.warn(`Writing the transcript of run ${run.id} failed: ${describe(error)}`),
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
            `Stream of run ${active.upstreamRunId} lost (${describe(error)}); following its status`,
          );
          void this.followStatus(active).then((outcome) => active.settle(outcome));
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

  /** A stream that broke is not a lost run: ask the upstream how it ended. */
  private async followStatus(active: ActiveRun): Promise<RunOutcome> {
    const deadline = Date.now() + this.config.chatRun.recoveryTimeoutMs;
    const runId = active.upstreamRunId!;
    let delay = this.config.chatRun.statusPollMs;
    while (Date.now() < deadline && !active.isSettled) {
      let status: HermesRunStatus | null;
      try {
        status = await this.hermes.getRun(active.run.profile, runId);
      } catch (error) {
        this.logger.warn(`Status of run ${runId} unavailable: ${describe(error)}`);
        await sleep(delay);
        delay = Math.min(delay * 2, 30_000);
        continue;
      }
      if (status === null) {
        return {
          kind: 'failed',
          error: 'The upstream no longer knows this run; the reply is incomplete',
          code: 'interrupted',
        };
      }
      if (HERMES_FINAL_RUN_STATES.has(status.status)) return this.statusOutcome(active, status);
      await sleep(this.config.chatRun.statusPollMs);
    }
    return {
      kind: 'failed',
      error: 'The run did not finish in time after its stream was lost',
      code: 'stream_lost',
    };
  }

  private statusOutcome(active: ActiveRun, status: HermesRunStatus): RunOutcome {
    switch (status.status) {
      case 'completed': {
        const payload: RunCompletedPayload = {
          event: 'run.completed',
          run_id: status.run_id,
          timestamp: status.updated_at ?? Date.now() / 1000,
          ...(typeof status.output === 'string' ? { output: status.output } : {}),
          ...(status.usage ? { usage: status.usage } : {}),
        };
        active.transcript = withFinalOutput(active.transcript, payload);
        return { kind: 'completed', payload };
      }
      case 'cancelled':
        return active.aborting
          ? { kind: 'aborted', synced: true }
          : { kind: 'failed', error: 'The run was cancelled upstream', code: 'upstream_error' };
      case 'interrupted':
        return {
          kind: 'failed',
          error: 'The upstream restarted before the run finished',
          code: 'interrupted',
        };
      default:
        return {
          kind: 'failed',
          error: status.error ?? 'The run failed upstream',
          code: 'upstream_error',
        };
    }
  }

  /** Stores the final transcript and run record, then tells the room how the run ended. */
  private async finish(runtime: SessionRuntime, active: ActiveRun): Promise<RunOutcome> {
    const outcome = await active.outcome;
    const { run } = active;
    active.closeDrafts(outcome);
    try {
      await active.close();
    } catch (error) {
      this.logger.error(`Final write of run ${run.id} failed: ${describe(error)}`);
    }
    await this.runs
      .end(run.id, endOf(outcome))
      .catch((error: unknown) =>
        this.logger.error(`Recording the end of run ${run.id} failed: ${describe(error)}`),
      );
    if (outcome.kind === 'completed') await this.recordUsage(run.sessionId, outcome.payload);
    runtime.activeRun = undefined;
    runtime.stateEvents = [];
    runtime.touch();
    const queued = await this.runs.countQueued(run.sessionId).catch(() => 0);
    const runId = active.upstreamRunId ?? run.id;
    switch (outcome.kind) {
      case 'completed':
        this.emitter.toSession(run.sessionId, 'run.completed', {
          ...outcome.payload,
          ...completionAnnotations(active.transcript, outcome.payload),
          run_id: runId,
          queue_remaining: queued,
        });
        break;
      case 'failed':
        this.emitter.toSession(run.sessionId, 'run.failed', {
          run_id: runId,
          error: outcome.error,
          code: outcome.code,
          queue_remaining: queued,
        });
        break;
      case 'aborted':
        this.emitter.toSession(run.sessionId, 'abort.completed', {
          run_id: runId,
          synced: outcome.synced,
          // Counts the run about to start, as the reference's clients expect.
          ...(queued > 0 ? { queue_length: queued } : {}),
        });
        break;
    }
    this.logger.log(`Run ${run.id} of ${run.sessionId} ended: ${outcome.kind}`);
    // Between runs the log keeps a bounded window of recent events.
    await this.log.trim(run.sessionId);
    return outcome;
  }

  private async recordUsage(sessionId: string, payload: RunCompletedPayload): Promise<void> {
    const usage = payload.usage;
    if (!usage) return;
    const count = (key: string): number | undefined => {
      const value = usage[key];
      return typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : undefined;
    };
    await this.sessions
      .addUsage(sessionId, {
        inputTokens: count('input_tokens'),
        outputTokens: count('output_tokens'),
        cacheReadTokens: count('cache_read_tokens'),
        cacheWriteTokens: count('cache_write_tokens'),
        reasoningTokens: count('reasoning_tokens'),
      })
      .catch((error: unknown) => this.logger.warn(`Recording usage failed: ${describe(error)}`));
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
    if (code === 'internal_error') this.logger.error(`Run failed unexpectedly: ${describe(error)}`);
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

function endOf(outcome: RunOutcome): Parameters<RunStore['end']>[1] {
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
