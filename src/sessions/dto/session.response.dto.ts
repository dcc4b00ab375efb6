import { ApiProperty } from '@nestjs/swagger';
import { ApiInteger, ApiUnixSeconds } from '../../common/http/openapi.decorators';
import { SESSION_ID_EXAMPLE } from './ids';
import { MessageDto } from './message.response.dto';
import { TokenFiguresDto } from './token-figures.dto';

/** A session with its counters, as the REST API and socket clients see it. */
export class SessionDto extends TokenFiguresDto {
  @ApiProperty({ example: SESSION_ID_EXAMPLE })
  id!: string;

  @ApiProperty({ example: 'default' })
  profile!: string;

  /** null: the profile's default model. */
  @ApiProperty({ example: 'anthropic/claude-sonnet-4.5' })
  model!: string | null;

  @ApiProperty({ example: 'Refactor the billing service' })
  title!: string | null;

  /** First user text, at most 100 characters on one line. */
  @ApiProperty({
    example: 'Split the invoice module out of billing/service.py and keep the tests green',
  })
  preview!: string | null;

  @ApiProperty({ example: '/home/ada/projects/billing' })
  workspace!: string | null;

  /** Unix seconds. */
  @ApiUnixSeconds(1768210200.512)
  created_at!: number;

  /** Unix seconds. */
  @ApiUnixSeconds(1768211742.318)
  last_active!: number;

  @ApiInteger({ example: 14 })
  message_count!: number;
}

export class SessionPageDto {
  items!: SessionDto[];

  /** Pass as `cursor` to get the next page; null on the last page. */
  @ApiProperty({ example: 'WzE3NjgyMTE3NDIsIjNmMmI4YzFlLTdkNGEtNGU5Yi05YTYxLTJjNWQ4ZTBmMWE3YiJd' })
  nextCursor!: string | null;
}

export class SearchHitDto {
  session!: SessionDto;

  /** The newest matching message, or null when only the title or preview matched. */
  @ApiInteger({ example: 4815 })
  message_id!: number | null;

  @ApiProperty({ example: '…moved the invoice totals into invoice/totals.py and…' })
  snippet!: string;
}

export class SearchResultDto {
  hits!: SearchHitDto[];
}

/** The JSON download of a session: the session, then its whole transcript in order. */
export class SessionExportDto {
  session!: SessionDto;
  messages!: MessageDto[];
}
