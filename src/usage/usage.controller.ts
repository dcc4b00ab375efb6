import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AppError } from '../common/errors/app-error';
import { ApiBearerToken, ApiInvalidInput } from '../common/errors/error-responses.decorators';
import { SessionIdParamDto } from '../sessions/dto/session-id.param.dto';
import { SessionRepository } from '../sessions/session.repository';
import { ApiUnknownSession } from '../sessions/sessions.decorators';
import {
  SessionUsageDto,
  SessionUsageQueryDto,
  UsageStatsDto,
  UsageStatsQueryDto,
} from './dto/usage.dto';
import { presentSessionUsage, presentStats } from './usage.presenter';
import { UsageStore } from './usage.store';

@ApiTags('usage')
@ApiBearerToken()
@ApiInvalidInput()
@Controller()
export class UsageController {
  constructor(
    private readonly usage: UsageStore,
    private readonly sessions: SessionRepository,
  ) {}

  /** A session's token totals, its current context estimate and its runs' usage. */
  @Get('sessions/:id/usage')
  @ApiUnknownSession()
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
