import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ApiOptionalInteger } from '../../common/http/openapi.decorators';

export class ListMessagesQueryDto {
  /** Only messages older than this message id (the `id` of the first message of a page). */
  @ApiOptionalInteger({ example: 4812 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  before?: number;

  /** Page size. */
  @ApiOptionalInteger({ example: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 200;
}
