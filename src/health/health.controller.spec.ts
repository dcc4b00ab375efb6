import { HttpStatus, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  HealthIndicatorResult,
  HealthIndicatorService,
  TerminusModule,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { RedisHealthIndicator } from '../cluster/redis.health';
import { AppError } from '../common/errors/app-error';
import { HermesHealthIndicator } from '../hermes/hermes.health';
import { HealthController } from './health.controller';

/** Which checks the stand-in indicators report down, and why. */
const down = new Map<string, string>();

function indicator(indicators: HealthIndicatorService, key: string): HealthIndicatorResult {
  const check = indicators.check(key);
  const why = down.get(key);
  return why === undefined ? check.up() : check.down({ message: why });
}

/** The real controller on terminus' real HealthCheckService; the checks are stand-ins. */
async function controller(): Promise<HealthController> {
  const module = await Test.createTestingModule({
    imports: [TerminusModule.forRoot({ logger: false })],
    controllers: [HealthController],
    providers: [
      {
        provide: TypeOrmHealthIndicator,
        inject: [HealthIndicatorService],
        useFactory: (indicators: HealthIndicatorService) => ({
          pingCheck: (key: string) => Promise.resolve(indicator(indicators, key)),
        }),
      },
      {
        provide: RedisHealthIndicator,
        inject: [HealthIndicatorService],
        useFactory: (indicators: HealthIndicatorService) => ({
          check: (key: string) => Promise.resolve(indicator(indicators, key)),
        }),
      },
      {
        provide: HermesHealthIndicator,
        inject: [HealthIndicatorService],
        useFactory: (indicators: HealthIndicatorService) => ({
          check: (key: string) => Promise.resolve(indicator(indicators, key)),
        }),
      },
    ],
  }).compile();
  return module.get(HealthController);
}

describe('HealthController', () => {
  let warned: jest.SpyInstance;
  let logged: jest.SpyInstance;

  beforeEach(() => {
    down.clear();
    warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    logged = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  it('answers the checks when all pass', async () => {
    const health = await controller();
    await expect(health.check()).resolves.toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, redis: { status: 'up' }, hermes: { status: 'up' } },
    });
    expect(warned).not.toHaveBeenCalled();
  });

  it('answers 503 unhealthy naming each failing check and why, not an unexpected 500', async () => {
    const health = await controller();
    down.set('database', 'timeout of 3000ms exceeded');
    down.set('redis', 'connect ECONNREFUSED 127.0.0.1:6379');
    const failure = await health.check().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({
      code: 'unhealthy',
      status: HttpStatus.SERVICE_UNAVAILABLE,
      message:
        'Failing checks: database (timeout of 3000ms exceeded), redis (connect ECONNREFUSED 127.0.0.1:6379)',
    });
  });

  it('logs a change of state once, not every probe, whatever reason the driver gives', async () => {
    const health = await controller();
    // Only the controller's own lines: Nest's testing module logs too.
    const lines = (spy: jest.SpyInstance): unknown[] =>
      spy.mock.calls
        .filter((_call, i) => (spy.mock.contexts[i] as { context?: string }).context === 'Health')
        .map(([line]: unknown[]) => line);
    for (let probe = 0; probe < 3; probe++) {
      down.set('database', `gone (attempt ${probe})`);
      await health.check().catch(() => undefined);
    }
    expect(lines(warned)).toEqual(['Failing checks: database (gone (attempt 0))']);
    down.set('redis', 'refused');
    await health.check().catch(() => undefined);
    expect(lines(warned)).toHaveLength(2);
    down.clear();
    await health.check();
    await health.check();
    expect(lines(logged)).toEqual(['Every check passes again']);
  });
});
