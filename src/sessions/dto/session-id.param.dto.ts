import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { ID_PATTERN, ID_RULE, SESSION_ID_EXAMPLE } from './ids';

export class SessionIdParamDto {
  @ApiProperty({ example: SESSION_ID_EXAMPLE, pattern: ID_PATTERN.source })
  @Matches(ID_PATTERN, { message: `id ${ID_RULE}` })
  id!: string;
}
