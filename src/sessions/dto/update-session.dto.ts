import { IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';

export class UpdateSessionDto {
  /** New title; `null` clears it. */
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(500)
  title?: string | null;

  /** New workspace; `null` clears it. */
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(4096)
  workspace?: string | null;
}
