import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ApiOptionalInteger } from '../../common/http/openapi.decorators';
import { PROFILE_NAME, PROFILE_NAME_MESSAGE } from '../../common/validation/profile-name';

export class ListSessionsQueryDto {
  /** Page size. */
  @ApiOptionalInteger({ example: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit: number = 50;

  /** `nextCursor` of the previous page. */
  @ApiPropertyOptional({
    example: 'WzE3NjgyMTE3NDIsIjNmMmI4YzFlLTdkNGEtNGU5Yi05YTYxLTJjNWQ4ZTBmMWE3YiJd',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  cursor?: string;

  /** Only sessions of this profile. */
  @ApiPropertyOptional({ example: 'default' })
  @IsOptional()
  @Matches(PROFILE_NAME, { message: PROFILE_NAME_MESSAGE })
  profile?: string;
}
