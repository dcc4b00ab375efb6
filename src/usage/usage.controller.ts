import { Controller, Get, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AppError } from '../common/errors/app-error';
import { ErrorResponseDto } from '../sessions/dto/error.response.dto';
import { SessionIdParamDto } from '../sessions/dto/session-id.param.dto';
import { SessionRepository } from '../sessions/session.repository';
import {
  SessionUsageDto,
  SessionUsageQueryDto,
  UsageStatsDto,
  UsageStatsQueryDto,
} from './dto/usage.dto';
import { presentSessionUsage, presentStats } from './usage.presenter';
import { UsageStore } from './usage.store';

@ApiTags('usage')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'Missing or wrong bearer token' })
@ApiBadRequestResponse({
  type: ErrorResponseDto,
  description: 'Invalid input; the message names the field',
})
@Controller()
export class UsageController {
  constructor(
    private readonly usage: UsageStore,
    private readonly sessions: SessionRepository,
  ) {}

  /** A session's token totals, its current context estimate and its runs' usage. */
  @Get('sessions/:id/usage')
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such session' })
  async sessionUsage(
    @Param() { id }: SessionIdParamDto,
    @Query() { limit }: SessionUsageQueryDto,
  ): Promise<SessionUsageDto> {
    const session = await this.sessions.findById(id);
    if (!session) throw AppError.unknownSession(id);
    return presentSessionUsage(session, await this.usage.runsOf(id, limit));
  }

  /** Usage over the last `days` days: totals, by model and by day (days without runs are zeros). */
  @Get('usage/stats')
  async stats(@Query() { days, profile }: UsageStatsQueryDto): Promise<UsageStatsDto> {
    return presentStats(await this.usage.stats(days, profile));
  }
}
