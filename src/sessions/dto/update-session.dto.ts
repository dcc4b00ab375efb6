import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';

export class UpdateSessionDto {
  /** New title; `null` clears it. */
  @ApiPropertyOptional({ example: 'Billing service: split the invoice module' })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(500)
  title?: string | null;

  /** New workspace; `null` clears it. */
  @ApiPropertyOptional({ example: '/home/ada/projects/billing-v2' })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @MaxLength(4096)
  workspace?: string | null;
}
