import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches, MaxLength } from 'class-validator';
import { IgnoresUnknownFields } from '../../common/validation/request-validation.pipe';
import { ID_PATTERN, ID_RULE, SESSION_ID_EXAMPLE } from '../../sessions/dto/ids';

/**
 * Request bodies of the hermes-studio client's session routes. Fields they do not declare are
 * dropped (newer versions of that client send more, such as `sessions` next to `ids`), as its own
 * server ignored them.
 */

@IgnoresUnknownFields()
export class ReferenceBatchDeleteDto {
  /** Sessions to delete. */
  @ApiProperty({ example: [SESSION_ID_EXAMPLE, '8c1d5e2a-0b3f-4a6c-9d7e-1f2a3b4c5d6e'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @Matches(ID_PATTERN, { each: true, message: `each of ids ${ID_RULE}` })
  ids!: string[];
}

@IgnoresUnknownFields()
export class ReferenceRenameDto {
  /** New title; surrounding spaces are dropped. */
  @ApiProperty({ example: 'Billing service: split the invoice module' })
  @IsString()
  @Matches(/\S/, { message: 'title must not be blank' })
  @MaxLength(500)
  title!: string;
}

@IgnoresUnknownFields()
export class ReferenceWorkspaceDto {
  /** Working directory the agent is told about; `''` clears it. */
  @ApiProperty({ example: '/home/ada/projects/billing' })
  @IsString()
  @MaxLength(4096)
  workspace!: string;
}
