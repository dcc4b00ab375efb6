import { IsIn, IsOptional, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';

/** One element of an array `input`: text, or an attachment the agent reads from `path`. */
export class ContentBlockDto {
  @IsIn(['text', 'image', 'file'])
  type!: 'text' | 'image' | 'file';

  @ValidateIf((block: ContentBlockDto) => block.type === 'text')
  @IsString()
  text?: string;

  @ValidateIf((block: ContentBlockDto) => block.type !== 'text')
  @IsString()
  @MaxLength(500)
  name?: string;

  @ValidateIf((block: ContentBlockDto) => block.type !== 'text')
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  path?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  media_type?: string;
}
