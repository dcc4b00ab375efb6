import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

export const EXPORT_FORMATS = ['json', 'markdown'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ExportSessionQueryDto {
  /** `json` (the session and its messages) or `markdown` (a readable transcript). */
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, example: 'markdown' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format: ExportFormat = 'json';
}
