import { ApiPropertyOptional, IntersectionType, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ApiOptionalInteger } from '../../common/http/openapi.decorators';
import { PROFILE_NAME, PROFILE_NAME_MESSAGE } from '../../common/validation/profile-name';
import { IgnoresUnknownFields } from '../../common/validation/request-validation.pipe';
import { ListMessagesQueryDto } from '../../sessions/dto/list-messages.query.dto';
import { SearchSessionsQueryDto } from '../../sessions/dto/search-sessions.query.dto';

/**
 * Query strings of the hermes-studio client's session routes. Each declared parameter is
 * validated like every other query of the API; parameters they do not declare (newer versions of
 * that client send more, such as `includeArchived`) are dropped, as its own server ignored them.
 */

@IgnoresUnknownFields()
export class ReferenceSourceQueryDto {
  /**
   * Only sessions of this source. Any source name is accepted, but every gateway session is
   * `api_server`: another source lists nothing.
   */
  @ApiPropertyOptional({ example: 'api_server' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'source must be a source name' })
  source?: string;
}

export class ReferenceListSessionsQueryDto extends ReferenceSourceQueryDto {
  /** Only sessions of this Hermes profile. */
  @ApiPropertyOptional({ example: 'default', pattern: PROFILE_NAME.source })
  @IsOptional()
  @Matches(PROFILE_NAME, { message: PROFILE_NAME_MESSAGE })
  profile?: string;

  /** Most sessions to list. */
  @ApiOptionalInteger({ example: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10000)
  limit: number = 2000;
}

/** `q` and `limit` as the gateway's own search takes them, and `source`. */
@IgnoresUnknownFields()
export class ReferenceSearchQueryDto extends IntersectionType(
  SearchSessionsQueryDto,
  ReferenceSourceQueryDto,
) {}

/** A page counted from the newest message: `offset` newest messages passed over, then `limit`. */
@IgnoresUnknownFields()
export class ReferenceMessagesPageQueryDto extends PickType(ListMessagesQueryDto, ['limit']) {
  /** How many of the newest messages to pass over. */
  @ApiOptionalInteger({ example: 300 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(2 ** 31 - 1)
  offset: number = 0;
}

export const REFERENCE_EXPORT_MODES = ['full', 'compressed'] as const;
export const REFERENCE_EXPORT_EXTENSIONS = ['json', 'txt'] as const;

@IgnoresUnknownFields()
export class ReferenceExportQueryDto {
  /**
   * `compressed` is accepted and gives the full transcript too: the gateway never changes the
   * stored transcript, and its summaries are only a run's input.
   */
  @ApiPropertyOptional({ enum: REFERENCE_EXPORT_MODES, example: 'full' })
  @IsOptional()
  @IsIn(REFERENCE_EXPORT_MODES)
  mode: (typeof REFERENCE_EXPORT_MODES)[number] = 'full';

  /** `json` (the session and its messages) or `txt` (a readable transcript); default: by mode. */
  @ApiPropertyOptional({ enum: REFERENCE_EXPORT_EXTENSIONS, example: 'txt' })
  @IsOptional()
  @IsIn(REFERENCE_EXPORT_EXTENSIONS)
  ext?: (typeof REFERENCE_EXPORT_EXTENSIONS)[number];

  /** The API token, for a download opened as a plain URL; never logged. */
  @ApiPropertyOptional({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  token?: string;
}
