import type { CompressionSettings } from '../config/app-config';
import type { ContextEstimate, HistoryMessage } from '../sessions/session.types';

/** Token budgets of one profile's context window. */
export interface ContextBudget {
  /** Above this many tokens the history is summarised. */
  trigger: number;
  /** The newest turns kept verbatim when summarising. */
  tail: number;
  /** The most a summary may take. */
  summary: number;
  /** The most one summariser run is given to read (older turns go in several runs). */
  chunk: number;
}

/**
 * The budgets for a context length. After compressing, the history takes at most
 * `tail + summary` (≤ 0.65 of the trigger with the largest allowed fractions), so the next
 * turns have room before the trigger is crossed again: compression happens once per crossing.
 */
export function budgetFor(contextLength: number, settings: CompressionSettings): ContextBudget {
  const trigger = Math.floor(contextLength * settings.threshold);
  // The floor keeps a summary possible; it is small enough never to break the hysteresis
  // below, even for the smallest trigger the configuration allows (51 tokens).
  const summary = Math.max(16, Math.floor(trigger * settings.summaryFraction));
  return {
    trigger,
    tail: Math.floor(trigger * settings.tailFraction),
    summary,
    // The summariser's own context holds the instructions, the previous summary and its answer
    // besides the chunk; a fifth of the window is left for the instructions and for the error
    // of counting with cl100k what another model's tokeniser counts.
    chunk: Math.max(256, Math.floor(contextLength * 0.8) - 2 * summary),
  };
}

type Sized = Pick<HistoryMessage, 'role' | 'tokenCount'>;

/**
 * Where the newest messages that fit in `budget` tokens begin. The tail never begins with a
 * tool result, whose calling assistant turn would then be summarised without it: it begins at
 * the first user turn inside the fitting stretch, or else at its first message that is not a
 * tool result. Returns `messages.length` when nothing fits.
 */
export function tailStart(messages: readonly Sized[], budget: number): number {
  let start = messages.length;
  let used = 0;
  while (start > 0 && used + messages[start - 1].tokenCount <= budget) {
    start--;
    used += messages[start].tokenCount;
  }
  const user = indexFrom(messages, start, (message) => message.role === 'user');
  if (user >= 0) return user;
  const notTool = indexFrom(messages, start, (message) => message.role !== 'tool');
  return notTool >= 0 ? notTool : messages.length;
}

/**
 * Consecutive groups of at most `budget` tokens (a larger single message is a group of its
 * own), for summarising a long stretch in several runs. The budget is strict, because a group
 * must fit the summariser's context: a tool call and its results may fall into consecutive
 * groups, which is harmless there since each group is summarised on top of the previous one.
 */
export function chunksOf<T extends Sized>(messages: readonly T[], budget: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let used = 0;
  for (const message of messages) {
    if (used + message.tokenCount > budget && current.length > 0) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(message);
    used += message.tokenCount;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The estimate of `usage.updated`: the summary and user turns, then the other turns. */
export function estimateOf(summaryTokens: number, messages: readonly Sized[]): ContextEstimate {
  let inputTokens = summaryTokens;
  let outputTokens = 0;
  for (const message of messages) {
    if (message.role === 'user') inputTokens += message.tokenCount;
    else outputTokens += message.tokenCount;
  }
  return { inputTokens, outputTokens };
}

export const totalOf = (estimate: ContextEstimate): number =>
  estimate.inputTokens + estimate.outputTokens;

function indexFrom<T>(items: readonly T[], from: number, test: (item: T) => boolean): number {
  for (let index = from; index < items.length; index++) if (test(items[index])) return index;
  return -1;
}
