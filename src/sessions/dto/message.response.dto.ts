import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiInteger, ApiUnixSeconds } from '../../common/http/openapi.decorators';
import { SESSION_ID_EXAMPLE } from './ids';

export class ToolCallFunctionDto {
  @ApiProperty({ example: 'read_file' })
  name!: string;

  /** JSON text of the arguments. */
  @ApiProperty({ example: '{"path":"billing/service.py"}' })
  arguments!: string;
}

export class ToolCallDto {
  @ApiProperty({ example: 'call_7f3a9c2e51' })
  id!: string;

  @ApiProperty({ enum: ['function'], example: 'function' })
  type!: 'function';

  function!: ToolCallFunctionDto;
}

/** One transcript message, as in the socket protocol's `resumed.messages`. */
export class MessageDto {
  @ApiInteger({ example: 4815 })
  id!: number;

  @ApiProperty({ example: SESSION_ID_EXAMPLE })
  session_id!: string;

  @ApiProperty({ example: 'assistant' })
  role!: 'user' | 'assistant' | 'tool';

  @ApiProperty({ example: 'The invoice totals now live in invoice/totals.py; all 42 tests pass.' })
  content!: string;

  @ApiProperty({ example: 'The totals helper is only used by the invoice code, so it can move.' })
  reasoning!: string | null;

  /** Unix seconds. */
  @ApiUnixSeconds(1768211742.318)
  timestamp!: number;

  /** The tools an assistant message calls. */
  tool_calls?: ToolCallDto[];

  /** On a tool message: the call it answers. */
  @ApiPropertyOptional({ example: 'call_7f3a9c2e51' })
  tool_call_id?: string;

  /** On a tool message: the tool that answered. */
  @ApiPropertyOptional({ example: 'read_file' })
  tool_name?: string;

  @ApiPropertyOptional({ example: 'stop' })
  finish_reason?: string;

  /** The gateway run that wrote the message. */
  @ApiPropertyOptional({ example: 'gw_0mx2jajho0000d4a49bcf2171' })
  run_id?: string;
}

export class MessagePageDto {
  /** Chronological order; the first request returns the newest page. */
  messages!: MessageDto[];

  /** Older messages exist: ask again with `before` = the first message's id. */
  @ApiProperty({ example: true })
  hasMore!: boolean;
}
