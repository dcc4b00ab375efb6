import { ApiProperty } from '@nestjs/swagger';
import { ApiInteger } from '../../common/http/openapi.decorators';
import { TokenFiguresDto } from '../../sessions/dto/token-figures.dto';

/**
 * Token usage in the shapes the hermes-studio web client reads. Costs are always 0: the gateway
 * records tokens, not prices.
 */

export class ReferenceTokenUsageDto {
  /** Everything the session's runs read, as the upstream reported (0 for a chat never run). */
  @ApiInteger({ example: 48210 })
  input_tokens!: number;

  @ApiInteger({ example: 6342 })
  output_tokens!: number;
}

export class ReferenceContextLengthDto {
  /** The profile's context length, in tokens. */
  @ApiInteger({ example: 200000 })
  context_length!: number;
}

export class ReferenceModelUsageDto extends TokenFiguresDto {
  /** Empty for runs that named no model (the upstream's default). */
  @ApiProperty({ example: 'anthropic/claude-sonnet-4.5' })
  model!: string;

  @ApiInteger({ example: 9 })
  sessions!: number;
}

export class ReferenceDailyUsageDto {
  /** UTC date, `YYYY-MM-DD`. */
  @ApiProperty({ example: '2026-01-12' })
  date!: string;

  @ApiInteger({ example: 12480 })
  input_tokens!: number;

  @ApiInteger({ example: 1733 })
  output_tokens!: number;

  @ApiInteger({ example: 8240 })
  cache_read_tokens!: number;

  @ApiInteger({ example: 2310 })
  cache_write_tokens!: number;

  @ApiInteger({ example: 3 })
  sessions!: number;

  /** Always 0: not counted by the gateway. */
  @ApiInteger({ example: 0 })
  errors!: number;

  /** Always 0. */
  @ApiProperty({ format: 'double', example: 0 })
  cost!: number;
}

export class ReferenceUsageStatsDto {
  @ApiInteger({ example: 48210 })
  total_input_tokens!: number;

  @ApiInteger({ example: 6342 })
  total_output_tokens!: number;

  @ApiInteger({ example: 31877 })
  total_cache_read_tokens!: number;

  @ApiInteger({ example: 9120 })
  total_cache_write_tokens!: number;

  @ApiInteger({ example: 1288 })
  total_reasoning_tokens!: number;

  /** Sessions with at least one run in the period, each once. */
  @ApiInteger({ example: 9 })
  total_sessions!: number;

  /** Always 0. */
  @ApiProperty({ format: 'double', example: 0 })
  total_cost!: number;

  @ApiInteger({ example: 7 })
  period_days!: number;

  /** Largest first. */
  model_usage!: ReferenceModelUsageDto[];

  /** Every day of the period, oldest first, zeros for days without runs. */
  daily_usage!: ReferenceDailyUsageDto[];
}
