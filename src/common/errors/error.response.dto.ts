import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ApiInteger } from '../http/openapi.decorators';
import type { ErrorBody } from './all-exceptions.filter';
import type { ErrorCode } from './app-error';

/** Every error answer of the REST API: the body AllExceptionsFilter writes. */
export class ErrorResponseDto implements ErrorBody {
  /** The HTTP status, repeated in the body. */
  @ApiInteger({ example: 404 })
  statusCode!: number;

  /** Stable machine-readable code: clients branch on it, never on `message`. */
  @ApiProperty({ example: 'unknown_session' })
  code!: ErrorCode;

  @ApiProperty({ example: "Session '3f2b8c1e-7d4a-4e9b-9a61-2c5d8e0f1a7b' does not exist" })
  message!: string;

  /** Only on a 500: the id the error was logged under, to find it in the server's log. */
  @ApiPropertyOptional({ example: '0b6f6d7c-2f0e-4f43-9c55-7f4c1b9e8a21' })
  errorId?: string;
}
