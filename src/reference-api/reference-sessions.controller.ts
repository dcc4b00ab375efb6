import { Body, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AcceptsQueryToken } from '../common/auth/query-token.decorator';
import { AppError } from '../common/errors/app-error';
import { ApiJsonBody } from '../common/errors/error-responses.decorators';
import { SessionIdParamDto } from '../sessions/dto/session-id.param.dto';
import { EXPORT_FILES, sendSessionExport } from '../sessions/session-export';
import { ApiSessionExport, ApiUnknownSession } from '../sessions/sessions.decorators';
import { SessionsService } from '../sessions/sessions.service';
import {
  ReferenceBatchDeleteDto,
  ReferenceRenameDto,
  ReferenceWorkspaceDto,
} from './dto/reference-sessions.body.dto';
import {
  ReferenceExportQueryDto,
  ReferenceListSessionsQueryDto,
  ReferenceMessagesPageQueryDto,
  ReferenceSearchQueryDto,
} from './dto/reference-sessions.query.dto';
import {
  ReferenceBatchDeleteResultDto,
  ReferenceDeletedDto,
  ReferenceMessagesPageDto,
  ReferenceOkDto,
  ReferenceSearchResponseDto,
  ReferenceSessionDetailResponseDto,
  ReferenceSessionListDto,
} from './dto/reference-sessions.response.dto';
import { ReferenceApiController } from './reference-api.decorators';
import {
  GATEWAY_SOURCE,
  presentReferenceMessage,
  presentReferenceSearchHit,
  presentReferenceSession,
} from './reference.presenter';
import { ReferenceSessionsService } from './reference-sessions.service';

/**
 * The hermes-studio web client's session routes (`/api/hermes/...`), over the same session store
 * as `/api/sessions`. Routes with a fixed path are declared before `sessions/:id`, which would
 * otherwise take them.
 */
@ReferenceApiController()
export class ReferenceSessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly reference: ReferenceSessionsService,
  ) {}

  /** Sessions, most recently active first. */
  @Get('sessions')
  async list(
    @Query() { source, limit, profile }: ReferenceListSessionsQueryDto,
  ): Promise<ReferenceSessionListDto> {
    if (!isGatewaySource(source)) return { sessions: [] };
    const page = await this.sessions.list({ limit, profile });
    return { sessions: page.items.map(presentReferenceSession) };
  }

  /** Sessions of the Hermes upstream's own history: the gateway keeps none, so always empty. */
  @Get('sessions/hermes')
  listUpstream(
    // Validated like the list's, then unused.
    @Query() _query: ReferenceListSessionsQueryDto,
  ): ReferenceSessionListDto {
    return { sessions: [] };
  }

  /** A session of the Hermes upstream's own history: the gateway keeps none. */
  @Get('sessions/hermes/:id')
  @ApiUnknownSession('Always: the gateway keeps no upstream history')
  getUpstream(@Param() { id }: SessionIdParamDto): ReferenceSessionDetailResponseDto {
    throw AppError.unknownSession(id);
  }

  /** Sessions whose title, preview or messages contain `q`. */
  @Get('search/sessions')
  async search(
    @Query() { q, source, limit }: ReferenceSearchQueryDto,
  ): Promise<ReferenceSearchResponseDto> {
    if (!isGatewaySource(source)) return { results: [] };
    const hits = await this.sessions.search(q, limit);
    return { results: hits.map(presentReferenceSearchHit) };
  }

  /** Deletes several sessions; each one that cannot be deleted is reported, the rest go ahead. */
  @Post('sessions/batch-delete')
  @HttpCode(200)
  @ApiJsonBody()
  async batchDelete(
    @Body() { ids }: ReferenceBatchDeleteDto,
  ): Promise<ReferenceBatchDeleteResultDto> {
    const { deleted, failed } = await this.reference.removeMany(ids);
    return { deleted, failed: failed.length, errors: failed };
  }

  /** One session with its whole transcript. */
  @Get('sessions/:id')
  @ApiUnknownSession()
  async get(@Param() { id }: SessionIdParamDto): Promise<ReferenceSessionDetailResponseDto> {
    const { session, messages } = await this.reference.withTranscript(id);
    return {
      session: {
        ...presentReferenceSession(session),
        messages: messages.map(presentReferenceMessage),
      },
    };
  }

  /**
   * A page of the transcript counted from the newest message, chronological: what the client
   * loads when its user scrolls above the messages `resumed` gave.
   */
  @Get('sessions/conversations/:id/messages/paginated')
  @ApiUnknownSession()
  async messagesPage(
    @Param() { id }: SessionIdParamDto,
    @Query() { offset, limit }: ReferenceMessagesPageQueryDto,
  ): Promise<ReferenceMessagesPageDto> {
    const session = await this.sessions.get(id);
    const page = await this.sessions.messages(id, { skip: offset, limit });
    return {
      session: presentReferenceSession(session),
      messages: page.messages.map(presentReferenceMessage),
      total: page.total,
      offset,
      limit,
      hasMore: page.hasMore,
    };
  }

  /** Deletes the session and everything stored under it; a session that does not exist is fine. */
  @Delete('sessions/:id')
  async remove(@Param() { id }: SessionIdParamDto): Promise<ReferenceDeletedDto> {
    return { ok: true, deleted: await this.reference.remove(id) };
  }

  /** Renames a session. */
  @Post('sessions/:id/rename')
  @HttpCode(200)
  @ApiJsonBody()
  @ApiUnknownSession()
  async rename(
    @Param() { id }: SessionIdParamDto,
    @Body() { title }: ReferenceRenameDto,
  ): Promise<ReferenceOkDto> {
    await this.sessions.update(id, { title: title.trim() });
    return { ok: true };
  }

  /** Sets the workspace (`''` clears it); a chat not run yet is created with it. */
  @Post('sessions/:id/workspace')
  @HttpCode(200)
  @ApiJsonBody()
  async workspace(
    @Param() { id }: SessionIdParamDto,
    @Body() { workspace }: ReferenceWorkspaceDto,
  ): Promise<ReferenceOkDto> {
    await this.reference.setWorkspace(id, workspace);
    return { ok: true };
  }

  /**
   * The whole session as a download. The token may be given as `?token=` (on this route only),
   * since the client opens the download as a plain URL.
   */
  @Get('sessions/:id/export')
  @AcceptsQueryToken()
  @ApiSessionExport('text/plain')
  async export(
    @Param() { id }: SessionIdParamDto,
    @Query() { mode, ext }: ReferenceExportQueryDto,
    @Res() res: Response,
  ): Promise<void> {
    const session = await this.sessions.get(id);
    const extension = ext ?? (mode === 'compressed' ? 'txt' : 'json');
    await sendSessionExport(
      res,
      session,
      this.sessions.streamMessages(id),
      extension === 'txt' ? EXPORT_FILES.text : EXPORT_FILES.json,
    );
  }
}

function isGatewaySource(source: string | undefined): boolean {
  return source === undefined || source === GATEWAY_SOURCE;
}
