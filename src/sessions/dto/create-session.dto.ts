import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ID_PATTERN, ID_RULE, SESSION_ID_EXAMPLE } from './ids';
import { PROFILE_NAME, PROFILE_NAME_MESSAGE } from '../../common/validation/profile-name';

export class CreateSessionDto {
  /** Client-chosen id; generated when omitted. */
  @ApiPropertyOptional({ example: SESSION_ID_EXAMPLE, pattern: ID_PATTERN.source })
  @IsOptional()
  @Matches(ID_PATTERN, { message: `id ${ID_RULE}` })
  id?: string;

  @ApiPropertyOptional({ example: 'Refactor the billing service' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  title?: string;

  /** Working directory the agent is told about. */
  @ApiPropertyOptional({ example: '/home/ada/projects/billing' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  workspace?: string;

  /** Hermes profile (upstream) the session's runs use. */
  @ApiPropertyOptional({ example: 'default' })
  @IsOptional()
  @Matches(PROFILE_NAME, { message: PROFILE_NAME_MESSAGE })
  profile?: string;

  @ApiPropertyOptional({ example: 'anthropic/claude-sonnet-4.5' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  model?: string;
}
