/**
 * Token usage in the shapes the hermes-studio web client reads. Costs are always 0: the gateway
 * records tokens, not prices.
 */

export class ReferenceTokenUsageDto {
  /** Everything the session's runs read, as the upstream reported (0 for a chat never run). */
  input_tokens!: number;
  output_tokens!: number;
}

export class ReferenceContextLengthDto {
  /** The profile's context length, in tokens. */
  context_length!: number;
}

export class ReferenceModelUsageDto {
  /** Empty for runs that named no model (the upstream's default). */
  model!: string;
  input_tokens!: number;
  output_tokens!: number;
  cache_read_tokens!: number;
  cache_write_tokens!: number;
  reasoning_tokens!: number;
  sessions!: number;
}

export class ReferenceDailyUsageDto {
  /** UTC date, `YYYY-MM-DD`. */
  date!: string;
  input_tokens!: number;
  output_tokens!: number;
  cache_read_tokens!: number;
  cache_write_tokens!: number;
  sessions!: number;
  /** Always 0: not counted by the gateway. */
  errors!: number;
  /** Always 0. */
  cost!: number;
}

export class ReferenceUsageStatsDto {
  total_input_tokens!: number;
  total_output_tokens!: number;
  total_cache_read_tokens!: number;
  total_cache_write_tokens!: number;
  total_reasoning_tokens!: number;
  /** Sessions with at least one run in the period, each once. */
  total_sessions!: number;
  /** Always 0. */
  total_cost!: number;
  period_days!: number;
  /** Largest first. */
  model_usage!: ReferenceModelUsageDto[];
  /** Every day of the period, oldest first, zeros for days without runs. */
  daily_usage!: ReferenceDailyUsageDto[];
}
