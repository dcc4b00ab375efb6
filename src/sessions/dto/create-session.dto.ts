import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ID_PATTERN, ID_RULE } from './ids';

export class CreateSessionDto {
  /** Client-chosen id; generated when omitted. */
  @IsOptional()
  @Matches(ID_PATTERN, { message: `id ${ID_RULE}` })
  id?: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  title?: string;

  /** Working directory the agent is told about. */
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  workspace?: string;

  /** Hermes profile (upstream) the session's runs use. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'profile must be a profile name' })
  profile?: string;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  model?: string;
}
