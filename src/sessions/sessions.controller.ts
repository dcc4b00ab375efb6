import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  ApiBearerToken,
  ApiCodedError,
  ApiInvalidInput,
  ApiJsonBody,
} from '../common/errors/error-responses.decorators';
import { CreateSessionDto } from './dto/create-session.dto';
import { ExportSessionQueryDto } from './dto/export-session.query.dto';
import { ListMessagesQueryDto } from './dto/list-messages.query.dto';
import { ListSessionsQueryDto } from './dto/list-sessions.query.dto';
import { MessagePageDto } from './dto/message.response.dto';
import { SearchSessionsQueryDto } from './dto/search-sessions.query.dto';
import { SESSION_ID_EXAMPLE } from './dto/ids';
import { SearchResultDto, SessionDto, SessionPageDto } from './dto/session.response.dto';
import { SessionIdParamDto } from './dto/session-id.param.dto';
import { UpdateSessionDto } from './dto/update-session.dto';
import { EXPORT_FILES, sendSessionExport } from './session-export';
import { presentMessage, presentSearchHit, presentSession } from './session.presenter';
import { ApiSessionExport, ApiUnknownSession } from './sessions.decorators';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@ApiBearerToken()
@ApiInvalidInput()
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  /** Creates a session, with a client-chosen id or a generated one. */
  @Post()
  @ApiJsonBody()
  @ApiCodedError(409, 'The id is taken', {
    code: 'session_exists',
    message: `Session '${SESSION_ID_EXAMPLE}' already exists`,
  })
  async create(@Body() body: CreateSessionDto): Promise<SessionDto> {
    return presentSession(await this.sessions.create(body));
  }

  /** Sessions, most recently active first, a page at a time. */
  @Get()
  async list(@Query() query: ListSessionsQueryDto): Promise<SessionPageDto> {
    const page = await this.sessions.list(query);
    return { items: page.items.map(presentSession), nextCursor: page.nextCursor };
  }

  /** Finds sessions by title, preview or message content. */
  @Get('search')
  async search(@Query() query: SearchSessionsQueryDto): Promise<SearchResultDto> {
    const hits = await this.sessions.search(query.q, query.limit);
    return { hits: hits.map(presentSearchHit) };
  }

  /** One session with its counters. */
  @Get(':id')
  @ApiUnknownSession()
  async get(@Param() { id }: SessionIdParamDto): Promise<SessionDto> {
    return presentSession(await this.sessions.get(id));
  }

  /** One page of the transcript: the newest page first, each page in chronological order. */
  @Get(':id/messages')
  @ApiUnknownSession()
  async messages(
    @Param() { id }: SessionIdParamDto,
    @Query() query: ListMessagesQueryDto,
  ): Promise<MessagePageDto> {
    const page = await this.sessions.messages(id, query);
    return { messages: page.messages.map(presentMessage), hasMore: page.hasMore };
  }

  /** Changes the title and/or workspace. */
  @Patch(':id')
  @ApiJsonBody()
  @ApiUnknownSession()
  async update(
    @Param() { id }: SessionIdParamDto,
    @Body() body: UpdateSessionDto,
  ): Promise<SessionDto> {
    return presentSession(await this.sessions.update(id, body));
  }

  /** Deletes the session and everything stored under it. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiUnknownSession()
  async remove(@Param() { id }: SessionIdParamDto): Promise<void> {
    await this.sessions.remove(id);
  }

  /** The whole session as a download (JSON or Markdown), streamed page by page. */
  @Get(':id/export')
  @ApiSessionExport('text/markdown')
  async export(
    @Param() { id }: SessionIdParamDto,
    @Query() { format }: ExportSessionQueryDto,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.sessions.get(id);
    await sendSessionExport(res, session, this.sessions.streamMessages(id), EXPORT_FILES[format]);
  }
}
