import { ApiProperty } from '@nestjs/swagger';
import { ApiInteger, ApiUnixSeconds } from '../../common/http/openapi.decorators';
import { SESSION_ID_EXAMPLE } from '../../sessions/dto/ids';
import { ToolCallDto } from '../../sessions/dto/message.response.dto';
import { TokenFiguresDto } from '../../sessions/dto/token-figures.dto';

/**
 * Sessions and messages in the shapes the hermes-studio web client reads (its `SessionSummary`
 * and `HermesMessage`). Figures the gateway does not keep have a fixed neutral value, said on
 * each field; times are unix seconds.
 */

export class ReferenceSessionDto extends TokenFiguresDto {
  @ApiProperty({ example: SESSION_ID_EXAMPLE })
  id!: string;

  /** Always `api_server`: every gateway session is a chat started through this API. */
  @ApiProperty({ example: 'api_server' })
  source!: string;

  /** Empty when the session named no model (the profile's default). */
  @ApiProperty({ example: 'anthropic/claude-sonnet-4.5' })
  model!: string;

  @ApiProperty({ example: 'Refactor the billing service' })
  title!: string | null;

  /** First user text, at most 100 characters on one line; empty before the first run. */
  @ApiProperty({
    example: 'Split the invoice module out of billing/service.py and keep the tests green',
  })
  preview!: string;

  @ApiUnixSeconds(1768210200.512)
  started_at!: number;

  /** Always null: a gateway session never ends. */
  @ApiUnixSeconds(null)
  ended_at!: number | null;

  @ApiUnixSeconds(1768211742.318)
  last_active!: number;

  @ApiInteger({ example: 14 })
  message_count!: number;

  /** Always 0: not counted by the gateway. */
  @ApiInteger({ example: 0 })
  tool_call_count!: number;

  /** Always null: the gateway knows no billing provider. */
  @ApiProperty({ example: null })
  billing_provider!: string | null;

  /** Always 0: the gateway prices nothing. */
  @ApiProperty({ format: 'double', example: 0 })
  estimated_cost_usd!: number;

  /** Always null: no actual cost is known. */
  @ApiProperty({ format: 'double', example: null })
  actual_cost_usd!: number | null;

  /** Always `''`: an unknown cost, as the hermes-studio server reports one it has no figure for. */
  @ApiProperty({ example: '' })
  cost_status!: string;

  @ApiProperty({ example: '/home/ada/projects/billing' })
  workspace!: string | null;
}

export class ReferenceMessageDto {
  /** The gateway's message id: an integer that never changes. */
  @ApiInteger({ example: 4815 })
  id!: number;

  @ApiProperty({ example: SESSION_ID_EXAMPLE })
  session_id!: string;

  @ApiProperty({ example: 'assistant' })
  role!: 'user' | 'assistant' | 'tool';

  @ApiProperty({ example: 'The invoice totals now live in invoice/totals.py; all 42 tests pass.' })
  content!: string;

  /** On a tool message: the call it answers. */
  @ApiProperty({ example: null })
  tool_call_id!: string | null;

  tool_calls!: ToolCallDto[] | null;

  /** On a tool message: the tool that answered. */
  @ApiProperty({ example: null })
  tool_name!: string | null;

  @ApiUnixSeconds(1768211742.318)
  timestamp!: number;

  /** Tokens of the message as stored (0 while its run still streams). */
  @ApiInteger({ example: 212 })
  token_count!: number | null;

  @ApiProperty({ example: 'stop' })
  finish_reason!: string | null;

  @ApiProperty({ example: 'The totals helper is only used by the invoice code, so it can move.' })
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

/** A page of a transcript counted from its newest message (the client's older-messages loader). */
export class ReferenceMessagesPageDto {
  session!: ReferenceSessionDto;

  /** Chronological: the oldest of the page first. */
  messages!: ReferenceMessageDto[];

  /** Messages in the session when the page was read. */
  @ApiInteger({ example: 1240 })
  total!: number;

  /** The newest messages passed over, as asked. */
  @ApiInteger({ example: 300 })
  offset!: number;

  /** The page size, as asked. */
  @ApiInteger({ example: 300 })
  limit!: number;

  /** Whether older messages come before this page. */
  @ApiProperty({ example: true })
  hasMore!: boolean;
}

export class ReferenceSearchResultDto extends ReferenceSessionDto {
  /** The newest matching message, or null when only the title or preview matched. */
  @ApiInteger({ example: 4815 })
  matched_message_id!: number | null;

  @ApiProperty({ example: '…moved the invoice totals into invoice/totals.py and…' })
  snippet!: string;

  /** Always 0: results come most recently active first, unranked (a plain text match). */
  @ApiInteger({ example: 0 })
  rank!: number;
}

export class ReferenceSearchResponseDto {
  results!: ReferenceSearchResultDto[];
}

export class ReferenceOkDto {
  @ApiProperty({ example: true })
  ok!: boolean;
}

export class ReferenceDeletedDto extends ReferenceOkDto {
  /** False when there was no such session (a new chat never run): deleting is idempotent. */
  @ApiProperty({ example: true })
  deleted!: boolean;
}

export class ReferenceBatchDeleteErrorDto {
  @ApiProperty({ example: '8c1d5e2a-0b3f-4a6c-9d7e-1f2a3b4c5d6e' })
  id!: string;

  @ApiProperty({ example: "Session '8c1d5e2a-0b3f-4a6c-9d7e-1f2a3b4c5d6e' does not exist" })
  error!: string;
}

export class ReferenceBatchDeleteResultDto {
  @ApiInteger({ example: 1 })
  deleted!: number;

  @ApiInteger({ example: 1 })
  failed!: number;

  /** One entry per id that could not be deleted. */
  errors!: ReferenceBatchDeleteErrorDto[];
}
