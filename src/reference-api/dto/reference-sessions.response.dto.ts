import { ToolCallDto } from '../../sessions/dto/message.response.dto';

/**
 * Sessions and messages in the shapes the hermes-studio web client reads (its `SessionSummary`
 * and `HermesMessage`). Figures the gateway does not keep have a fixed neutral value, said on
 * each field; times are unix seconds.
 */

export class ReferenceSessionDto {
  id!: string;
  /** Always `api_server`: every gateway session is a chat started through this API. */
  source!: string;
  /** Empty when the session named no model (the profile's default). */
  model!: string;
  title!: string | null;
  /** First user text, at most 100 characters on one line; empty before the first run. */
  preview!: string;
  started_at!: number;
  /** Always null: a gateway session never ends. */
  ended_at!: number | null;
  last_active!: number;
  message_count!: number;
  /** Always 0: not counted by the gateway. */
  tool_call_count!: number;
  input_tokens!: number;
  output_tokens!: number;
  cache_read_tokens!: number;
  cache_write_tokens!: number;
  reasoning_tokens!: number;
  /** Always null: the gateway knows no billing provider. */
  billing_provider!: string | null;
  /** Always 0: the gateway prices nothing. */
  estimated_cost_usd!: number;
  /** Always null: no actual cost is known. */
  actual_cost_usd!: number | null;
  /** Always `''`: an unknown cost, as the hermes-studio server reports one it has no figure for. */
  cost_status!: string;
  workspace!: string | null;
}

export class ReferenceMessageDto {
  /** The gateway's message id: an integer that never changes. */
  id!: number;
  session_id!: string;
  role!: 'user' | 'assistant' | 'tool';
  content!: string;
  tool_call_id!: string | null;
  tool_calls!: ToolCallDto[] | null;
  tool_name!: string | null;
  timestamp!: number;
  /** Tokens of the message as stored (0 while its run still streams). */
  token_count!: number | null;
  finish_reason!: string | null;
  reasoning!: string | null;
}

export class ReferenceSessionListDto {
  /** Most recently active first. */
  sessions!: ReferenceSessionDto[];
}

export class ReferenceSessionDetailDto extends ReferenceSessionDto {
  /** The whole transcript, in order. */
  messages!: ReferenceMessageDto[];
}

export class ReferenceSessionDetailResponseDto {
  session!: ReferenceSessionDetailDto;
}

export class ReferenceSearchResultDto extends ReferenceSessionDto {
  /** The newest matching message, or null when only the title or preview matched. */
  matched_message_id!: number | null;
  snippet!: string;
  /** Always 0: results come most recently active first, unranked (a plain text match). */
  rank!: number;
}

export class ReferenceSearchResponseDto {
  results!: ReferenceSearchResultDto[];
}

export class ReferenceOkDto {
  ok!: boolean;
}

export class ReferenceDeletedDto extends ReferenceOkDto {
  /** False when there was no such session (a new chat never run): deleting is idempotent. */
  deleted!: boolean;
}

export class ReferenceBatchDeleteErrorDto {
  id!: string;
  error!: string;
}

export class ReferenceBatchDeleteResultDto {
  deleted!: number;
  failed!: number;
  /** One entry per id that could not be deleted. */
  errors!: ReferenceBatchDeleteErrorDto[];
}
