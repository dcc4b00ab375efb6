import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { GroupCommit } from '../database/sql/group-commit';
import { SqlClient, type SqlExecutor, type SqlStatement } from '../database/sql/sql-client';
import type { TokenTotals } from '../sessions/session.types';
import { TranscriptStore } from '../sessions/transcript.store';
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
 * Per-run usage rows and the session totals they add up to. A row and its share of the totals
 * are written in one transaction, so the totals never disagree with the rows; a chat run's row
 * goes into the same transaction as its reply (`insertIn`).
 */
@Injectable()
export class UsageStore {
  private readonly insert: SqlStatement;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: SqlClient,
    private readonly commit: GroupCommit,
    private readonly sessions: TranscriptStore,
  ) {
    this.insert = sql.statement(
      `INSERT INTO ${sql.table('run_usage')} (session_id, run_id, kind, profile, model, ` +
        `input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, ` +
        `day, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  /** Records a run's usage on its own (a summariser run): the row and the session totals. */
  record(input: RunUsageInput, now = Date.now()): Promise<void> {
    return this.commit.write(async (tx) => {
      const usage = await this.insertIn(tx, input, now);
      await this.sessions.touchSession(tx, input.sessionId, { usage, at: now / 1000 });
    });
  }

  /**
   * Inserts the usage row inside the caller's transaction and returns its totals, which the
   * caller adds to the session row in that same transaction.
   */
  async insertIn(tx: SqlExecutor, input: RunUsageInput, now = Date.now()): Promise<TokenTotals> {
    const totals = tokenTotalsOf(input.usage);
    await tx.run(this.insert, [
      input.sessionId,
      input.runId,
      input.kind,
      input.profile,
      input.model,
      totals.inputTokens,
      totals.outputTokens,
      totals.cacheReadTokens,
      totals.cacheWriteTokens,
      totals.reasoningTokens,
      utcDay(now),
      now / 1000,
    ]);
    return totals;
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
