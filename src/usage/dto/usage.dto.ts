import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import {
  ApiInteger,
  ApiOptionalInteger,
  ApiUnixSeconds,
} from '../../common/http/openapi.decorators';
import { SESSION_ID_EXAMPLE } from '../../sessions/dto/ids';
import { TokenFiguresDto } from '../../sessions/dto/token-figures.dto';
import type { RunUsageKind } from '../run-usage.entity';
import { PROFILE_NAME, PROFILE_NAME_MESSAGE } from '../../common/validation/profile-name';

export class SessionUsageQueryDto {
  /** The newest runs to list. */
  @ApiOptionalInteger({ example: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 100;
}

export class UsageStatsQueryDto {
  /** Days up to and including today (UTC). */
  @ApiOptionalInteger({ example: 7 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(366)
  days: number = 30;

  /** Only runs of this profile. */
  @ApiPropertyOptional({ example: 'default' })
  @IsOptional()
  @IsString()
  @Matches(PROFILE_NAME, { message: PROFILE_NAME_MESSAGE })
  profile?: string;
}

export class RunUsageDto extends TokenFiguresDto {
  @ApiProperty({ example: 'gw_0mx2jajho0000d4a49bcf2171' })
  run_id!: string;

  /** `run` for a chat run, `compression` for a summariser run made for the session. */
  @ApiProperty({ example: 'run' })
  @IsIn(['run', 'compression'])
  kind!: RunUsageKind;

  @ApiProperty({ example: 'default' })
  profile!: string;

  /** null when the run named no model (the upstream's default). */
  @ApiProperty({ example: 'anthropic/claude-sonnet-4.5' })
  model!: string | null;

  /** Unix seconds. */
  @ApiUnixSeconds(1768211742.318)
  created_at!: number;
}

export class ContextEstimateDto {
  /** Tokens of the summary and the user turns after it. */
  @ApiInteger({ example: 5210 })
  input_tokens!: number;

  /** Tokens of the assistant and tool turns after the summary. */
  @ApiInteger({ example: 18734 })
  output_tokens!: number;
}

export class SessionUsageDto {
  @ApiProperty({ example: SESSION_ID_EXAMPLE })
  session_id!: string;

  /** Everything the session's runs (chat and summariser) consumed, as the upstream reported. */
  totals!: TokenFiguresDto;

  /** The context a next run would send, as last sent in `usage.updated`. */
  context!: ContextEstimateDto;

  /** Newest first. */
  runs!: RunUsageDto[];
}

export class UsageFiguresDto extends TokenFiguresDto {
  @ApiInteger({ example: 37 })
  runs!: number;

  /** Sessions with at least one of these runs (in the totals, each session once). */
  @ApiInteger({ example: 9 })
  sessions!: number;
}

export class ModelUsageDto extends UsageFiguresDto {
  /** null when the run named no model (the upstream's default). */
  @ApiProperty({ example: 'anthropic/claude-sonnet-4.5' })
  model!: string | null;
}

export class DayUsageDto extends UsageFiguresDto {
  /** UTC date, `YYYY-MM-DD`. */
  @ApiProperty({ example: '2026-01-12' })
  day!: string;
}

export class UsageStatsDto {
  @ApiInteger({ example: 7 })
  days!: number;

  /** The profile asked for, or null for all. */
  @ApiProperty({ example: 'default' })
  profile!: string | null;

  /** First day of the window, UTC `YYYY-MM-DD`. */
  @ApiProperty({ example: '2026-01-06' })
  from!: string;

  /** Today, UTC `YYYY-MM-DD`. */
  @ApiProperty({ example: '2026-01-12' })
  to!: string;

  totals!: UsageFiguresDto;

  /** Largest first. */
  by_model!: ModelUsageDto[];

  /** Every day of the window, oldest first, zeros for days without runs. */
  by_day!: DayUsageDto[];
}
