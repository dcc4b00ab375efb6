import type { Session, TokenTotals } from '../sessions/session.types';
import type { TokenFiguresDto } from '../sessions/dto/token-figures.dto';
import type { RunUsageDto, SessionUsageDto, UsageFiguresDto, UsageStatsDto } from './dto/usage.dto';
import type { RunUsage, UsageFigures, UsageStats } from './usage.types';

export function presentTokens(totals: TokenTotals): TokenFiguresDto {
  return {
    input_tokens: totals.inputTokens,
    output_tokens: totals.outputTokens,
    cache_read_tokens: totals.cacheReadTokens,
    cache_write_tokens: totals.cacheWriteTokens,
    reasoning_tokens: totals.reasoningTokens,
  };
}

export function presentSessionUsage(session: Session, runs: RunUsage[]): SessionUsageDto {
  return {
    session_id: session.id,
    totals: presentTokens(session),
    context: {
      input_tokens: session.context.inputTokens,
      output_tokens: session.context.outputTokens,
    },
    runs: runs.map(presentRun),
  };
}

export function presentStats(stats: UsageStats): UsageStatsDto {
  return {
    days: stats.days,
    profile: stats.profile,
    from: stats.from,
    to: stats.to,
    totals: presentFigures(stats.totals),
    by_model: stats.byModel.map((row) => ({ model: row.model, ...presentFigures(row) })),
    by_day: stats.byDay.map((row) => ({ day: row.day, ...presentFigures(row) })),
  };
}

function presentRun(run: RunUsage): RunUsageDto {
  return {
    run_id: run.runId,
    kind: run.kind,
    profile: run.profile,
    model: run.model,
    ...presentTokens(run),
    created_at: run.createdAt,
  };
}

function presentFigures(figures: UsageFigures): UsageFiguresDto {
  return { runs: figures.runs, sessions: figures.sessions, ...presentTokens(figures) };
}
