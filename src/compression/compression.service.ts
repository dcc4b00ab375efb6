import { Injectable, Logger } from '@nestjs/common';
import { toConversationHistory, type HistoryTurn } from '../content/conversation-history';
import { EncodedHistory, HistoryEncoder } from '../content/encoded-history';
import { AppConfig } from '../config/app-config';
import { HermesProfiles } from '../hermes/hermes-profiles';
import { errorMessage } from '../common/errors/error-message';
import { EphemeralSessionCleanup } from '../hermes/home/ephemeral-session-cleanup';
import { TranscriptStore } from '../sessions/transcript.store';
import type { ContextEstimate, HistoryMessage } from '../sessions/session.types';
import { UsageStore } from '../usage/usage.store';
import {
  budgetFor,
  chunksOf,
  estimateOf,
  tailStart,
  totalOf,
  type ContextBudget,
} from './context-window';
import type { CompressionListener } from './compression.events';
import { HistoryWindow } from './history-window';
import { type Snapshot, SnapshotStore } from './snapshot.store';
import { Summariser, SUMMARY_PREFIX } from './summariser';
import { TokenCounter } from '../tokens/token-counter';

export interface HistoryRequest {
  sessionId: string;
  /** The gateway run; its summariser runs are keyed from it, so a repeat replays them. */
  runId: string;
  profile: string;
  model: string | null;
  /** The run's own user message: the history ends before it; the estimate includes it. */
  userMessageId: number;
  /** The session row's `createdAt`: tells a re-created session from the one a window holds. */
  sessionCreatedAt: number;
  /**
   * The session was created with this run's user message: it has no snapshot and no earlier
   * messages, so nothing is read (the window already holds the user message).
   */
  fresh?: boolean;
}

export type { CompressionListener };

export interface PreparedHistory {
  /** The run's `conversation_history`, encoded. */
  history: EncodedHistory;
  /** What that history and the run's input take (`usage.updated` before the run). */
  estimate: ContextEstimate;
}

/** The part of a compression decision that depends on how summarising went. */
interface Summarised {
  snapshot: Snapshot | null;
  failure?: string;
}

/**
 * Decides, before each run, what history it is sent. Below the trigger: the snapshot's summary
 * (if any) and every message after it. Above: the older messages are summarised (incrementally,
 * on top of the previous summary) and the newest are kept verbatim; the snapshot is stored so
 * that the next runs start from it. Reads only the messages after the snapshot and adds up their
 * stored token counts: nothing is tokenised again. The stored transcript is never changed.
 */
@Injectable()
export class CompressionService {
  private readonly logger = new Logger(CompressionService.name);

  constructor(
    private readonly sessions: TranscriptStore,
    private readonly snapshots: SnapshotStore,
    private readonly summariser: Summariser,
    private readonly usage: UsageStore,
    private readonly profiles: HermesProfiles,
    private readonly cleanup: EphemeralSessionCleanup,
    private readonly tokens: TokenCounter,
    private readonly config: AppConfig,
  ) {}

  /**
   * `window` is the session's cache of what the previous run read; without one (a session
   * not in use) everything after the snapshot is read.
   */
  async prepare(
    request: HistoryRequest,
    listener: CompressionListener,
    window = new HistoryWindow(),
  ): Promise<PreparedHistory> {
    const contextLength = this.profiles.get(request.profile).contextLength;
    const budget = budgetFor(contextLength, this.config.compression);
    const snapshot = request.fresh ? null : await this.snapshots.find(request.sessionId);
    const rows = await window.read(
      (afterId, throughId, limit) =>
        this.sessions.historyBetween(request.sessionId, afterId, throughId, limit),
      snapshot?.lastMessageId ?? 0,
      request.sessionCreatedAt,
      request.userMessageId,
    );
    // The window ends with the run's own user message: the history is what comes before it.
    const last = rows.at(-1);
    const input = last?.id === request.userMessageId ? [last] : [];
    const earlier = input.length > 0 ? rows.slice(0, -1) : rows;
    // Added up as the window read them: a long session's counts are not summed again each run.
    const { inputTokens, outputTokens } = window.tokens;
    const before = { inputTokens: inputTokens + (snapshot?.summaryTokens ?? 0), outputTokens };
    let prepared: PreparedHistory;
    if (totalOf(before) <= budget.trigger) {
      prepared = { history: assemble(window.encoder, snapshot, earlier), estimate: before };
    } else {
      listener.started({ message_count: earlier.length, token_count: totalOf(before) });
      const head = earlier.slice(0, tailStart(earlier, budget.tail));
      const outcome = await this.summarise(request, budget, snapshot, head);
      // Messages the (new) summary does not cover: on success exactly the verbatim tail.
      const rest = earlier.filter((row) => row.id > (outcome.snapshot?.lastMessageId ?? 0));
      const summaryTokens = outcome.snapshot?.summaryTokens ?? 0;
      const room = budget.trigger - summaryTokens - estimateOf(0, input).inputTokens;
      const kept = outcome.failure ? rest.slice(tailStart(rest, Math.max(0, room))) : rest;
      prepared = {
        history: assemble(new HistoryEncoder(), outcome.snapshot, kept),
        estimate: estimateOf(summaryTokens, [...kept, ...input]),
      };
      const summarised = outcome.snapshot !== snapshot;
      listener.completed({
        compressed: summarised || kept.length < rest.length,
        llmCompressed: summarised,
        totalMessages: earlier.length,
        resultMessages: prepared.history.length,
        beforeTokens: totalOf(before),
        afterTokens: totalOf(prepared.estimate),
        summaryTokens,
        verbatimCount: kept.length,
        // A message id (the one index space of snapshots), not a position in some array.
        compressedStartIndex: summarised && head.length > 0 ? head[0].id : -1,
        ...(outcome.failure
          ? { error: fallbackNote(outcome.failure, kept.length, rest.length) }
          : {}),
      });
    }
    return prepared;
  }

  /**
   * The estimate of a session as stored now: the summary and every message after it, added up
   * by the database. For a run that ended before its history was prepared (the estimate it was
   * prepared with covers everything else, see {@link estimateAfterRun}).
   */
  async currentEstimate(sessionId: string): Promise<ContextEstimate> {
    const snapshot = await this.snapshots.find(sessionId);
    const tokens = await this.sessions.tokensAfter(sessionId, snapshot?.lastMessageId ?? 0);
    return {
      inputTokens: (snapshot?.summaryTokens ?? 0) + tokens.userTokens,
      outputTokens: tokens.otherTokens,
    };
  }

  /**
   * Summarises `head` in chunks the summariser can read, each on top of the previous summary,
   * storing the snapshot after each so that progress survives a later failure.
   */
  private async summarise(
    request: HistoryRequest,
    budget: ContextBudget,
    snapshot: Snapshot | null,
    head: readonly HistoryMessage[],
  ): Promise<Summarised> {
    if (head.length === 0) {
      return { snapshot, failure: 'nothing older than the newest turns is left to summarise' };
    }
    let current = snapshot;
    try {
      for (const [index, chunk] of chunksOf(head, budget.chunk).entries()) {
        current = await this.summariseChunk(request, budget, current, chunk, index);
      }
      return { snapshot: current };
    } catch (error) {
      const reason = errorMessage(error);
      this.logger.warn(`Compressing session ${request.sessionId} failed: ${reason}`);
      return { snapshot: current, failure: reason };
    }
  }

  private async summariseChunk(
    request: HistoryRequest,
    budget: ContextBudget,
    previous: Snapshot | null,
    chunk: HistoryMessage[],
    index: number,
  ): Promise<Snapshot> {
    const key = `${request.runId}.s${index}`;
    const summary = await this.summariser
      .summarise({
        profile: request.profile,
        model: request.model,
        key,
        previous: previous?.summary ?? null,
        turns: toConversationHistory(chunk),
        maxTokens: budget.summary,
        // About three characters per token: one huge turn cannot overflow the summariser.
        maxTurnChars: budget.chunk * 3,
      })
      .finally(() => this.cleanup.forget(request.profile, `eph_${key}`));
    if (summary.usage) {
      await this.usage
        .record({
          sessionId: request.sessionId,
          runId: key,
          kind: 'compression',
          profile: request.profile,
          model: request.model,
          usage: summary.usage,
        })
        .catch((error: unknown) =>
          this.logger.warn(`Recording summary usage failed: ${errorMessage(error)}`),
        );
    }
    // The hard cap that keeps the assembled history well under the trigger (hysteresis).
    const text = this.tokens.truncate(summary.text, budget.summary);
    return this.snapshots.save({
      sessionId: request.sessionId,
      lastMessageId: chunk[chunk.length - 1].id,
      summary: text,
      summaryTokens: this.tokens.countInline(summaryTurn(text).content),
      coveredMessages: (previous?.coveredMessages ?? 0) + chunk.length,
    });
  }
}

/**
 * The estimate once a run's messages are stored: the estimate its history was prepared with
 * (which covers everything up to its user message) plus the run's own messages. The cost does
 * not grow with the session.
 */
export function estimateAfterRun(
  prepared: ContextEstimate,
  runMessages: readonly { role: string; tokenCount: number }[],
): ContextEstimate {
  let inputTokens = prepared.inputTokens;
  let outputTokens = prepared.outputTokens;
  for (const message of runMessages) {
    if (message.role === 'user') inputTokens += message.tokenCount;
    else outputTokens += message.tokenCount;
  }
  return { inputTokens, outputTokens };
}

function summaryTurn(summary: string): HistoryTurn {
  return { role: 'user', content: `${SUMMARY_PREFIX}\n\n${summary}` };
}

/** The summary (if any), then the messages; below the trigger, `encoder` is the session's. */
function assemble(
  encoder: HistoryEncoder,
  snapshot: Snapshot | null,
  messages: readonly HistoryMessage[],
): EncodedHistory {
  return encoder.encode(messages, snapshot ? summaryTurn(snapshot.summary) : undefined);
}

function fallbackNote(reason: string, kept: number, total: number): string {
  const left = total - kept;
  return (
    `Summarising failed (${reason}). This run was sent the earlier summary (if any) and the ` +
    `newest ${kept} of ${total} messages` +
    (left > 0 ? `; the ${left} older ones are kept in the transcript but were left out.` : '.')
  );
}
