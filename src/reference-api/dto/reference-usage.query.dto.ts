import { ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, Matches } from 'class-validator';
import { ID_PATTERN, ID_RULE, SESSION_ID_EXAMPLE } from '../../sessions/dto/ids';
import { UsageStatsQueryDto } from '../../usage/dto/usage.dto';
import { PROFILE_NAME, PROFILE_NAME_MESSAGE } from '../../common/validation/profile-name';
import { IgnoresUnknownFields } from '../../common/validation/request-validation.pipe';

/**
 * Query strings of the hermes-studio client's usage routes. Parameters they do not declare (that
 * client's newer versions send more, such as `provider` and `model`) are dropped, as its own server
 * ignored them.
 */

@IgnoresUnknownFields()
export class ReferenceUsageQueryDto {
  /** Session ids, comma-separated; unknown ids are left out of the answer. */
  @ApiPropertyOptional({
    example: [SESSION_ID_EXAMPLE, '8c1d5e2a-0b3f-4a6c-9d7e-1f2a3b4c5d6e'],
    pattern: ID_PATTERN.source,
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').filter((id) => id.length > 0) : value,
  )
  @IsArray()
  @ArrayMaxSize(2000)
  @Matches(ID_PATTERN, { each: true, message: `each of ids ${ID_RULE}` })
  ids: string[] = [];
}

@IgnoresUnknownFields()
export class ReferenceContextLengthQueryDto {
  /** Hermes profile; `default` when omitted. */
  @ApiPropertyOptional({ example: 'default', pattern: PROFILE_NAME.source })
  @IsOptional()
  @Matches(PROFILE_NAME, { message: PROFILE_NAME_MESSAGE })
  profile?: string;
}

/** `days` as the gateway's own usage statistics take it. */
@IgnoresUnknownFields()
export class ReferenceUsageStatsQueryDto extends PickType(UsageStatsQueryDto, ['days']) {}
