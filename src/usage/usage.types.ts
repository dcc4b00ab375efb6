import type { HermesUsage } from '../hermes/hermes-events';
import type { TokenTotals } from '../sessions/session.types';
import type { RunUsageKind } from './run-usage.entity';

/** A finished run's usage as the upstream reported it, with what it belongs to. */
export interface RunUsageInput {
  sessionId: string;
  runId: string;
  kind: RunUsageKind;
  profile: string;
  model: string | null;
  usage: HermesUsage;
}

export interface RunUsage extends TokenTotals {
  id: number;
  runId: string;
  kind: RunUsageKind;
  profile: string;
  model: string | null;
  /** Unix seconds. */
  createdAt: number;
}

export interface UsageFigures extends TokenTotals {
  runs: number;
  /** Sessions with at least one of these runs. */
  sessions: number;
}

export interface UsageStats {
  days: number;
  profile: string | null;
  /** First and last day of the window, UTC `YYYY-MM-DD`. */
  from: string;
  to: string;
  totals: UsageFigures;
  byModel: (UsageFigures & { model: string | null })[];
  /** Every day of the window, oldest first; days without runs are zeros. */
  byDay: (UsageFigures & { day: string })[];
}

/**
 * The upstream's counters as whole non-negative numbers. Counters come under several names
 * depending on the provider behind the upstream; the first positive one is taken, and a counter
 * that is missing, negative or not a number counts as 0.
 */
export function tokenTotalsOf(usage: HermesUsage): TokenTotals {
  const count = (...keys: string[]): number => {
    for (const key of keys) {
      const value = usage[key];
      if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
        return Math.round(value);
      }
    }
    return 0;
  };
  return {
    inputTokens: count('input_tokens', 'prompt_tokens'),
    outputTokens: count('output_tokens', 'completion_tokens'),
    cacheReadTokens: count('cache_read_tokens', 'cache_read_input_tokens'),
    cacheWriteTokens: count('cache_write_tokens', 'cache_creation_input_tokens'),
    reasoningTokens: count('reasoning_tokens'),
  };
}
