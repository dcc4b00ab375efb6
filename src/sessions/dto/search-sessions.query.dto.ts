import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ApiOptionalInteger } from '../../common/http/openapi.decorators';

export class SearchSessionsQueryDto {
  /** Text to find in titles, previews and message content (case-insensitive). */
  @ApiProperty({ example: 'invoice' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  q!: string;

  /** Most sessions to return. */
  @ApiOptionalInteger({ example: 10 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}
