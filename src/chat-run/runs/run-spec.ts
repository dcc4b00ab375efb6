import type { LoggerService } from '@nestjs/common';
import type { HermesClient } from '../../hermes/hermes.client';
import type { RunTranscript } from '../transcript/transcript.reducer';
import type { RunMetrics } from './run-metrics';
import type { RunStatusFollower } from './run-status-follower';

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
  metrics: RunMetrics;
}
