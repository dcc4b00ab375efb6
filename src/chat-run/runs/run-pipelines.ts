import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { flattenInput, flattenStoredInput, type ContentBlock } from '../../content/content-blocks';
import { HermesClient } from '../../hermes/hermes.client';
import type { SessionRuntime } from '../runtime/session-runtime';
import { ChatSocket, SessionEmitter } from '../session-emitter';
import { RoomAudience, SocketAudience } from './run-audience';
import { RunMetrics } from './run-metrics';
import { RunPipeline } from './run-pipeline';
import type { PipelineDeps } from './run-spec';
import { UnrecordedRun } from './run-recorder';
import { RunStatusFollower } from './run-status-follower';
import { upstreamSessionOf, type RunRecord } from './run.store';
import { StoredRunDeps, StoredRunRecorder } from './stored-run-recorder';
import { TranscriptWriter } from './transcript-writer';
import { transcriptFromStored } from './recovered-transcript';
import type { Message } from '../../sessions/session.types';

/** A `run` without `session_id`. */
export interface SessionlessRequest {
  input: string | ContentBlock[];
  profile: string;
  model?: string;
  instructions?: string;
}

/** How a stored run begins: fresh, or taken over from what a previous process stored. */
export type StoredRunMode =
  { kind: 'new'; fresh: boolean } | { kind: 'recovered'; stored: readonly Message[] };

/**
 * Builds the pipeline of each run: what it asks the upstream for, who hears it and what it
 * keeps. Runs in a session go to their room and are stored; a session-less run goes to its
 * socket only and keeps nothing, through the same pipeline.
 */
@Injectable()
export class RunPipelines {
  private readonly deps: PipelineDeps;

  constructor(
    hermes: HermesClient,
    follower: RunStatusFollower,
    private readonly emitter: SessionEmitter,
    private readonly stored: StoredRunDeps,
    private readonly config: AppConfig,
    metrics: RunMetrics,
  ) {
    this.deps = {
      hermes,
      follower,
      logger: new Logger(RunPipeline.name),
      abortGraceMs: config.chatRun.abortGraceMs,
      maxDurationMs: config.chatRun.maxRunDurationMs,
      metrics,
    };
  }

  /** The pipeline of a run in a session (its record is stored, its user message too). */
  forSession(runtime: SessionRuntime, run: RunRecord, mode: StoredRunMode): RunPipeline {
    const writer = new TranscriptWriter(this.stored.transcripts, run.sessionId, run.id);
    let transcript = null;
    if (mode.kind === 'recovered') {
      const drafts = mode.stored.filter((message) => message.role !== 'user');
      transcript = transcriptFromStored(run.upstreamRunId ?? run.id, drafts);
      writer.adopt(drafts, transcript.messages);
    }
    const recorder = new StoredRunRecorder(
      { run, runtime, writer, fresh: mode.kind === 'new' && mode.fresh },
      this.stored,
    );
    return new RunPipeline(
      {
        id: run.id,
        profile: run.profile,
        input: flattenStoredInput(run.input),
        model: run.model,
        instructions: this.instructions(run.instructions, runtime.facts?.workspace ?? null),
        upstreamSession: upstreamSessionOf(run),
        startedAt: run.startedAt ?? Date.now() / 1000,
        upstreamRunId: mode.kind === 'recovered' ? run.upstreamRunId : null,
        transcript,
      },
      this.deps,
      recorder,
      new RoomAudience(this.emitter, runtime),
    );
  }

  /** The pipeline of a session-less run: its events go to `socket` only, nothing is stored. */
  sessionless(socket: ChatSocket, request: SessionlessRequest): RunPipeline {
    return new RunPipeline(
      {
        id: `gw_${randomBytes(12).toString('hex')}`,
        profile: request.profile,
        input: flattenInput(request.input),
        model: request.model ?? null,
        instructions: this.instructions(request.instructions ?? null, null),
        upstreamSession: null,
        startedAt: Date.now() / 1000,
        upstreamRunId: null,
        transcript: null,
      },
      this.deps,
      new UnrecordedRun(),
      new SocketAudience(this.emitter, socket),
    );
  }

  /** The run's `instructions`: the workspace, the server's system prompt, the client's own. */
  private instructions(client: string | null, workspace: string | null): string {
    return [
      workspace ? `[Current working directory: ${workspace}]` : '',
      this.config.chatRun.systemPrompt,
      client ?? '',
    ]
      .filter((part) => part.length > 0)
      .join('\n');
  }
}
