import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ID_PATTERN, ID_RULE } from '../../sessions/dto/ids';
import { ContentBlockDto } from './content-block.dto';

const idRule = (field: string) => ({ message: `${field} ${ID_RULE}` });

export class RunPayloadDto {
  /** A non-empty string or a non-empty array of content blocks (see `parseRunInput`). */
  @Allow()
  input!: string | ContentBlockDto[];

  @IsOptional()
  @Matches(ID_PATTERN, idRule('session_id'))
  session_id?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  model?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64 * 1024)
  instructions?: string;

  @IsOptional()
  @Matches(ID_PATTERN, idRule('queue_id'))
  queue_id?: string;
}

export class ContentBlocksDto {
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => ContentBlockDto)
  blocks!: ContentBlockDto[];
}

export class SessionRefDto {
  @Matches(ID_PATTERN, idRule('session_id'))
  session_id!: string;
}

export class CancelQueuedRunDto extends SessionRefDto {
  @Matches(ID_PATTERN, idRule('queue_id'))
  queue_id!: string;
}

export class ResumePayloadDto extends SessionRefDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  after_seq?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class ApprovalRespondDto extends SessionRefDto {
  @IsIn(['once', 'session', 'always', 'deny'])
  choice!: 'once' | 'session' | 'always' | 'deny';

  @IsOptional()
  @IsString()
  @MaxLength(200)
  request_id?: string;
}
