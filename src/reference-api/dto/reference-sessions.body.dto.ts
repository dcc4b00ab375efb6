import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches, MaxLength } from 'class-validator';
import { ID_PATTERN, ID_RULE } from '../../sessions/dto/ids';

/** Request bodies of the hermes-studio client's session routes. */

export class ReferenceBatchDeleteDto {
  /** Sessions to delete. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @Matches(ID_PATTERN, { each: true, message: `each of ids ${ID_RULE}` })
  ids!: string[];
}

export class ReferenceRenameDto {
  /** New title; surrounding spaces are dropped. */
  @IsString()
  @Matches(/\S/, { message: 'title must not be blank' })
  @MaxLength(500)
  title!: string;
}

export class ReferenceWorkspaceDto {
  /** Working directory the agent is told about; `''` clears it. */
  @IsString()
  @MaxLength(4096)
  workspace!: string;
}
