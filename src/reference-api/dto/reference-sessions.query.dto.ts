import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

/**
 * Query strings of the hermes-studio client's session routes, validated like every other query
 * of the API (unknown parameters are refused).
 */

const SOURCE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export class ReferenceListSessionsQueryDto {
  /** Only sessions of this source; every gateway session is `api_server`. */
  @IsOptional()
  @Matches(SOURCE_PATTERN, { message: 'source must be a source name' })
  source?: string;

  /** Most sessions to list. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10000)
  limit: number = 2000;
}

export class ReferenceSearchQueryDto {
  /** Text to find in titles, previews and message content (case-insensitive). */
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  q!: string;

  /** Only sessions of this source; every gateway session is `api_server`. */
  @IsOptional()
  @Matches(SOURCE_PATTERN, { message: 'source must be a source name' })
  source?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}

export const REFERENCE_EXPORT_MODES = ['full', 'compressed'] as const;
export const REFERENCE_EXPORT_EXTENSIONS = ['json', 'txt'] as const;

export class ReferenceExportQueryDto {
  /**
   * `compressed` is accepted and gives the full transcript too: the gateway never changes the
   * stored transcript, and its summaries are only a run's input.
   */
  @IsOptional()
  @IsIn(REFERENCE_EXPORT_MODES)
  mode: (typeof REFERENCE_EXPORT_MODES)[number] = 'full';

  /** `json` (the session and its messages) or `txt` (a readable transcript); default: by mode. */
  @IsOptional()
  @IsIn(REFERENCE_EXPORT_EXTENSIONS)
  ext?: (typeof REFERENCE_EXPORT_EXTENSIONS)[number];

  /** The API token, for a download opened as a plain URL; never logged. */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  token?: string;
}
