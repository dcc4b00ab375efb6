import { Get, Param, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, getSchemaPath } from '@nestjs/swagger';
import { AppError } from '../common/errors/app-error';
import { ApiCodedError } from '../common/errors/error-responses.decorators';
import { HermesProfiles } from '../hermes/hermes-profiles';
import { SESSION_ID_EXAMPLE } from '../sessions/dto/ids';
import { SessionIdParamDto } from '../sessions/dto/session-id.param.dto';
import { UsageStore } from '../usage/usage.store';
import {
  ReferenceContextLengthQueryDto,
  ReferenceUsageQueryDto,
  ReferenceUsageStatsQueryDto,
} from './dto/reference-usage.query.dto';
import {
  ReferenceContextLengthDto,
  ReferenceTokenUsageDto,
  ReferenceUsageStatsDto,
} from './dto/reference-usage.response.dto';
import { ReferenceApiController } from './reference-api.decorators';
import { presentReferenceStats, presentReferenceTokenUsage } from './reference.presenter';
import { ReferenceSessionsService } from './reference-sessions.service';

/**
 * The hermes-studio web client's usage routes (`/api/hermes/...`). Its module registers this
 * controller before the sessions one: `sessions/usage` and `sessions/context-length` must come
 * before `sessions/:id`.
 */
@ReferenceApiController()
export class ReferenceUsageController {
  constructor(
    private readonly reference: ReferenceSessionsService,
    private readonly profiles: HermesProfiles,
    private readonly usage: UsageStore,
  ) {}

  /** Token totals of several sessions, by id; ids of no session are left out. */
  @Get('sessions/usage')
  @ApiExtraModels(ReferenceTokenUsageDto)
  @ApiOkResponse({
    description: 'Token totals by session id',
    schema: {
      type: 'object',
      additionalProperties: { $ref: getSchemaPath(ReferenceTokenUsageDto) },
      example: { [SESSION_ID_EXAMPLE]: { input_tokens: 48210, output_tokens: 6342 } },
    },
  })
  async sessionsUsage(
    @Query() { ids }: ReferenceUsageQueryDto,
  ): Promise<Record<string, ReferenceTokenUsageDto>> {
    const byId = await this.reference.tokensOf(ids);
    return Object.fromEntries(
      [...byId].map(([id, totals]) => [id, presentReferenceTokenUsage(totals)]),
    );
  }

  /** The context length of a Hermes profile. */
  @Get('sessions/context-length')
  @ApiCodedError(404, 'No such profile', {
    code: 'unknown_profile',
    message: "Unknown profile 'research'",
  })
  contextLength(@Query() { profile }: ReferenceContextLengthQueryDto): ReferenceContextLengthDto {
    const name = profile ?? 'default';
    if (!this.profiles.has(name)) {
      throw new AppError('unknown_profile', `Unknown profile '${name}'`, 404);
    }
    return { context_length: this.profiles.get(name).contextLength };
  }

  /** Token totals of one session (zeros for a chat never run). */
  @Get('sessions/:id/usage')
  async sessionUsage(@Param() { id }: SessionIdParamDto): Promise<ReferenceTokenUsageDto> {
    return presentReferenceTokenUsage(await this.reference.tokensOfOne(id));
  }

  /** Usage over the last `days` days (UTC): totals, by model, and every day of the period. */
  @Get('usage/stats')
  async stats(@Query() { days }: ReferenceUsageStatsQueryDto): Promise<ReferenceUsageStatsDto> {
    return presentReferenceStats(await this.usage.stats(days, undefined));
  }
}
