import { Injectable, Logger } from '@nestjs/common';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { AppConfig } from '../config/app-config';
import {
  isTerminalEvent,
  type HermesTerminalEvent,
  type HermesUsage,
} from '../hermes/hermes-events';
import { HermesClient } from '../hermes/hermes.client';
import { normaliseAssistantContent } from '../content/content-blocks';
import type { HistoryTurn } from '../content/conversation-history';

export const SUMMARY_PREFIX = '[Summary of the earlier conversation]';

const INSTRUCTIONS = [
  'You compress conversations so that an assistant can continue them without the original turns.',
  'Write one summary that merges the previous summary (if any) with the new turns. Keep every',
  'fact, decision, name, number, file path, command, identifier and open task the assistant may',
  'need later; drop greetings and repetition. Write in the language of the conversation.',
  'Reply with the summary only, no preamble.',
].join(' ');

export interface SummaryRequest {
  profile: string;
  model: string | null;
  /** Idempotency key of the summariser run (also names its ephemeral upstream session). */
  key: string;
  previous: string | null;
  turns: HistoryTurn[];
  /** Asked for, not trusted: the caller cuts a longer answer. */
  maxTokens: number;
  /** Longest text a single turn may bring, in characters (a huge tool output is cut). */
  maxTurnChars: number;
}

export interface Summary {
  text: string;
  usage: HermesUsage | undefined;
}

/**
 * Writes summaries with a run on the session's own Hermes upstream, in an ephemeral upstream
 * session of its own, and waits for its terminal event at most `COMPRESSION_TIMEOUT_MS`.
 * Failure of any kind (refused, failed, cancelled, empty, lost stream, timeout) is thrown: the
 * caller decides what the run is sent instead.
 */
@Injectable()
export class Summariser {
  private readonly logger = new Logger(Summariser.name);

  constructor(
    private readonly hermes: HermesClient,
    private readonly config: AppConfig,
  ) {}

  async summarise(request: SummaryRequest): Promise<Summary> {
    const created = await this.hermes.createRun(
      request.profile,
      {
        input: renderInput(request),
        session_id: `eph_${request.key}`,
        ...(request.model ? { model: request.model } : {}),
        instructions: `${INSTRUCTIONS} Use at most ${request.maxTokens} tokens.`,
      },
      request.key,
      { attempts: 2 },
    );
    const timeoutMs = this.config.compression.timeoutMs;
    let terminal: HermesTerminalEvent;
    try {
      terminal = await firstValueFrom(
        this.hermes
          .runEvents(request.profile, created.runId)
          .pipe(filter(isTerminalEvent), timeout({ first: timeoutMs })),
      );
    } catch (error) {
      // A summariser run left behind would only cost tokens: stop it (best effort).
      void this.hermes.stopRun(request.profile, created.runId).catch(() => undefined);
      if (error instanceof Error && error.name === 'TimeoutError') {
        throw new Error(`the summariser did not answer within ${timeoutMs} ms`);
      }
      throw error;
    }
    if (terminal.type === 'run.failed')
      throw new Error(`the summariser failed: ${terminal.payload.error}`);
    if (terminal.type !== 'run.completed') throw new Error('the summariser run was cancelled');
    const text = normaliseAssistantContent(terminal.payload.output ?? '').content.trim();
    if (text === '') throw new Error('the summariser returned an empty summary');
    this.logger.log(`Summary ${request.key}: ${request.turns.length} turns → ${text.length} chars`);
    return { text, usage: terminal.payload.usage };
  }
}

function renderInput(request: SummaryRequest): string {
  const parts: string[] = [];
  if (request.previous) parts.push(`Previous summary:\n${request.previous}`);
  const turns = request.turns.map((turn) => {
    const text =
      turn.content.length > request.maxTurnChars
        ? `${turn.content.slice(0, request.maxTurnChars)} […cut]`
        : turn.content;
    return `${turn.role === 'user' ? 'User' : 'Assistant'}: ${text}`;
  });
  parts.push(`New turns:\n${turns.join('\n\n')}`);
  return parts.join('\n\n');
}
