import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import type { RunUsageKind } from '../run-usage.entity';

export class SessionUsageQueryDto {
  /** The newest runs to list. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 100;
}

export class UsageStatsQueryDto {
  /** Days up to and including today (UTC). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(366)
  days: number = 30;

  /** Only runs of this profile. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { message: 'profile is not a profile name' })
  profile?: string;
}

export class TokenFiguresDto {
  input_tokens!: number;
  output_tokens!: number;
  cache_read_tokens!: number;
  cache_write_tokens!: number;
  reasoning_tokens!: number;
}

export class RunUsageDto extends TokenFiguresDto {
  run_id!: string;
  /** `run` for a chat run, `compression` for a summariser run made for the session. */
  @IsIn(['run', 'compression'])
  kind!: RunUsageKind;
  profile!: string;
  model!: string | null;
  /** Unix seconds. */
  created_at!: number;
}

export class ContextEstimateDto {
  /** Tokens of the summary and the user turns after it. */
  input_tokens!: number;
  /** Tokens of the assistant and tool turns after the summary. */
  output_tokens!: number;
}

export class SessionUsageDto {
  session_id!: string;
  /** Everything the session's runs (chat and summariser) consumed, as the upstream reported. */
  totals!: TokenFiguresDto;
  /** The context a next run would send, as last sent in `usage.updated`. */
  context!: ContextEstimateDto;
  /** Newest first. */
  runs!: RunUsageDto[];
}

export class UsageFiguresDto extends TokenFiguresDto {
  runs!: number;
  /** Sessions with at least one of these runs (in the totals, each session once). */
  sessions!: number;
}

export class ModelUsageDto extends UsageFiguresDto {
  /** null when the run named no model (the upstream's default). */
  model!: string | null;
}

export class DayUsageDto extends UsageFiguresDto {
  /** UTC date, `YYYY-MM-DD`. */
  day!: string;
}

export class UsageStatsDto {
  days!: number;
  profile!: string | null;
  /** First day of the window, UTC `YYYY-MM-DD`. */
  from!: string;
  /** Today, UTC `YYYY-MM-DD`. */
  to!: string;
  totals!: UsageFiguresDto;
  /** Largest first. */
  by_model!: ModelUsageDto[];
  /** Every day of the window, oldest first, zeros for days without runs. */
  by_day!: DayUsageDto[];
}
