import type { CompressionListener } from '../../compression/compression.events';
import type { EncodedHistory } from '../../content/encoded-history';
import type { ContextEstimate } from '../../sessions/session.types';
import type { RunTranscript } from '../transcript/transcript.reducer';
import type { RunOutcome } from './run-outcome';

/** The history a run is sent, and what it takes (`usage.updated` before the run). */
export interface RunHistory {
  /** The `conversation_history` (null: none is sent, as for a session-less run). */
  turns: EncodedHistory | null;
  estimate: ContextEstimate | null;
}

export type SettledOutcome = Exclude<RunOutcome, { kind: 'detached' }>;

/**
 * What a run keeps, and where. A run in a session keeps everything (its history comes from the
 * store, its transcript and record go to it); a session-less run keeps nothing. The pipeline
 * calls these at the same points either way, so both kinds go through one flow.
 */
export interface RunRecorder {
  /** The history to send; compression events go to `listener`. */
  history(listener: CompressionListener): Promise<RunHistory>;
  /** The upstream accepted the run. */
  started(upstreamRunId: string, aborting: boolean): void;
  /** An abort began. */
  aborting(): void;
  /** The transcript changed: a batched write of its drafts is due. */
  changed(transcript: RunTranscript): void;
  /** Writes what streamed so far, now (a resuming client, shutdown). */
  flush(transcript: RunTranscript): Promise<void>;
  /**
   * Stores the end of the run; resolves to the session's new context estimate (null: none to
   * announce). While the database is unavailable it keeps trying, and calls `delayed` (maybe
   * more than once) when the terminal event should wait no longer. Rejects when the run will not
   * be stored from here: another instance took the session, or {@link stop} was called.
   */
  settle(
    transcript: RunTranscript,
    outcome: SettledOutcome,
    delayed: () => void,
  ): Promise<ContextEstimate | null>;
  /** Shutdown: a final write that keeps failing is not tried again. */
  stop(): void;
  /** Store ids of the drafts written so far, by draft index. */
  storedIds(): readonly number[];
  /** Runs waiting behind this one. */
  queueLength(): number;
  /** The run no longer holds its session (right before its terminal event). */
  release(): void;
  /** After the terminal event: what follows a stored run (upstream cleanup, log trimming). */
  after(outcome: SettledOutcome): void;
}

/** A session-less run: nothing is read, kept or announced beyond the stream itself. */
export class UnrecordedRun implements RunRecorder {
  history(): Promise<RunHistory> {
    return Promise.resolve({ turns: null, estimate: null });
  }

  started(): void {}

  aborting(): void {}

  changed(): void {}

  flush(): Promise<void> {
    return Promise.resolve();
  }

  settle(): Promise<ContextEstimate | null> {
    return Promise.resolve(null);
  }

  stop(): void {}

  storedIds(): readonly number[] {
    return [];
  }

  queueLength(): number {
    return 0;
  }

  release(): void {}

  after(): void {}
}
