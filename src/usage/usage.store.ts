import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { serialTransaction } from '../database/serial-transactions';
import { SessionEntity } from '../sessions/session.entity';
import type { TokenTotals } from '../sessions/session.types';
import { RunUsageEntity } from './run-usage.entity';
import { RunUsage, RunUsageInput, tokenTotalsOf, UsageFigures, UsageStats } from './usage.types';

const TOKEN_FIELDS: [keyof TokenTotals, string][] = [
  ['inputTokens', 'input_tokens'],
  ['outputTokens', 'output_tokens'],
  ['cacheReadTokens', 'cache_read_tokens'],
  ['cacheWriteTokens', 'cache_write_tokens'],
  ['reasoningTokens', 'reasoning_tokens'],
];

const DAY_MS = 24 * 60 * 60 * 1000;

/** `YYYY-MM-DD` of a time, in UTC. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

type FigureRow = Record<string, string | number | null>;

/**
 * Per-run usage rows and the session totals they add up to. A row and its share of the
 * totals are written in one transaction, so the totals never disagree with the rows.
 */
@Injectable()
export class UsageStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(input: RunUsageInput, now = Date.now()): Promise<void> {
    const totals = tokenTotalsOf(input.usage);
    const increments: Partial<Record<keyof SessionEntity, () => string>> = {};
    for (const [field, column] of TOKEN_FIELDS) {
      const amount = totals[field];
      if (amount > 0) increments[field] = () => `${column} + ${amount}`;
    }
    await serialTransaction(this.dataSource, async (manager) => {
      await manager.insert(RunUsageEntity, {
        sessionId: input.sessionId,
        runId: input.runId,
        kind: input.kind,
        profile: input.profile,
        model: input.model,
        ...totals,
        day: utcDay(now),
        createdAt: now / 1000,
      });
      if (Object.keys(increments).length === 0) return;
      await manager
        .createQueryBuilder()
        .update(SessionEntity)
        .set(increments)
        .where('id = :id', { id: input.sessionId })
        .execute();
    });
  }

  /** The session's newest runs first. */
  async runsOf(sessionId: string, limit: number): Promise<RunUsage[]> {
    const rows = await this.dataSource.manager.find(RunUsageEntity, {
      where: { sessionId },
      order: { id: 'DESC' },
      take: limit,
    });
    return rows.map((row) => ({
      id: row.id,
      runId: row.runId,
      kind: row.kind,
      profile: row.profile,
      model: row.model,
      inputTokens: row.inputTokens,
      outputTokens: row.outputTokens,
      cacheReadTokens: row.cacheReadTokens,
      cacheWriteTokens: row.cacheWriteTokens,
      reasoningTokens: row.reasoningTokens,
      createdAt: row.createdAt,
    }));
  }

  /** The last `days` UTC days up to today, optionally of one profile. */
  async stats(days: number, profile: string | undefined, now = Date.now()): Promise<UsageStats> {
    const from = utcDay(now - (days - 1) * DAY_MS);
    const to = utcDay(now);
    const grouped = (column: 'day' | 'model'): Promise<FigureRow[]> =>
      this.figures(column, from, to, profile).getRawMany<FigureRow>();
    const [dayRows, modelRows, sessions] = await Promise.all([
      grouped('day'),
      grouped('model'),
      this.sessionsWithRuns(from, to, profile),
    ]);
    const byDayFound = new Map(dayRows.map((row) => [String(row['day']), toFigures(row)]));
    const byDay: UsageStats['byDay'] = [];
    for (let index = days - 1; index >= 0; index--) {
      const day = utcDay(now - index * DAY_MS);
      byDay.push({ day, ...(byDayFound.get(day) ?? emptyFigures()) });
    }
    const totals = emptyFigures();
    for (const figures of byDay) addInto(totals, figures);
    // A session active on several days counts once in the window.
    totals.sessions = sessions;
    return {
      days,
      profile: profile ?? null,
      from,
      to,
      totals,
      byModel: modelRows
        .map((row) => ({
          model: row['model'] === null ? null : String(row['model']),
          ...toFigures(row),
        }))
        .sort((a, b) => b.inputTokens + b.outputTokens - (a.inputTokens + a.outputTokens)),
      byDay,
    };
  }

  private figures(
    column: 'day' | 'model',
    from: string,
    to: string,
    profile: string | undefined,
  ): SelectQueryBuilder<RunUsageEntity> {
    const query = this.dataSource.manager
      .createQueryBuilder(RunUsageEntity, 'u')
      .select(`u.${column}`, column)
      .addSelect('COUNT(*)', 'runs')
      .addSelect('COUNT(DISTINCT u.session_id)', 'sessions')
      .groupBy(`u.${column}`);
    for (const [field, name] of TOKEN_FIELDS) {
      query.addSelect(`COALESCE(SUM(u.${name}), 0)`, field);
    }
    return this.inWindow(query, from, to, profile);
  }

  private async sessionsWithRuns(
    from: string,
    to: string,
    profile: string | undefined,
  ): Promise<number> {
    const query = this.dataSource.manager
      .createQueryBuilder(RunUsageEntity, 'u')
      .select('COUNT(DISTINCT u.session_id)', 'sessions');
    const row = await this.inWindow(query, from, to, profile).getRawOne<FigureRow>();
    return Number(row?.['sessions'] ?? 0);
  }

  private inWindow(
    query: SelectQueryBuilder<RunUsageEntity>,
    from: string,
    to: string,
    profile: string | undefined,
  ): SelectQueryBuilder<RunUsageEntity> {
    // Bounded on both sides: rows stamped after `now` (clock skew) stay out of every figure.
    query.where('u.day >= :from AND u.day <= :to', { from, to });
    if (profile !== undefined) query.andWhere('u.profile = :profile', { profile });
    return query;
  }
}

function emptyFigures(): UsageFigures {
  return {
    runs: 0,
    sessions: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  };
}

/** PostgreSQL answers SUM and COUNT as strings. */
function toFigures(row: FigureRow): UsageFigures {
  const figures = emptyFigures();
  figures.runs = Number(row['runs'] ?? 0);
  figures.sessions = Number(row['sessions'] ?? 0);
  for (const [field] of TOKEN_FIELDS) figures[field] = Number(row[field] ?? 0);
  return figures;
}

function addInto(target: UsageFigures, figures: UsageFigures): void {
  target.runs += figures.runs;
  for (const [field] of TOKEN_FIELDS) target[field] += figures[field];
}
