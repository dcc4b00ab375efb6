import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ID_PATTERN, ID_RULE } from '../../sessions/dto/ids';

/** Query strings of the hermes-studio client's usage routes. */

export class ReferenceUsageQueryDto {
  /** Session ids, comma-separated; unknown ids are left out of the answer. */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').filter((id) => id.length > 0) : value,
  )
  @IsArray()
  @ArrayMaxSize(2000)
  @Matches(ID_PATTERN, { each: true, message: `each of ids ${ID_RULE}` })
  ids: string[] = [];
}

export class ReferenceContextLengthQueryDto {
  /** Hermes profile; `default` when omitted. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { message: 'profile must be a profile name' })
  profile?: string;
}

export class ReferenceUsageStatsQueryDto {
  /** Days up to and including today (UTC). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(366)
  days: number = 30;
}
