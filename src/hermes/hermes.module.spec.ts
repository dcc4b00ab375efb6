import { Logger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfigModule } from '../config/config.module';
import { MetricsRegistryModule } from '../metrics/metrics.module';
import { HermesCleanup1795802879184 } from '../database/migrations/1795802879184-hermes-cleanup';
import { HermesClient } from './hermes.client';
import { HermesHealthIndicator } from './hermes.health';
import { HermesModule } from './hermes.module';
import { HermesProfiles } from './hermes-profiles';
import { EphemeralSessionCleanup } from './home/ephemeral-session-cleanup';
import { HermesCleanupTask } from './home/hermes-cleanup-task.entity';
import { HermesStateReader } from './home/hermes-state.reader';

describe('HermesModule', () => {
  let moduleRef: TestingModule;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    moduleRef = await Test.createTestingModule({
      imports: [
        AppConfigModule.forRoot({
          HERMES_URL: 'http://127.0.0.1:9/',
          HERMES_API_KEY: 'module-key',
          HERMES_PROFILES_FILE: '',
          HERMES_HOME: '',
        }),
        TypeOrmModule.forRoot({
          type: 'sqlite',
          database: ':memory:',
          entities: [HermesCleanupTask],
          migrations: [HermesCleanup1795802879184],
          migrationsRun: true,
        }),
        MetricsRegistryModule,
        HermesModule,
      ],
    }).compile();
    await moduleRef.init();
  });
  afterAll(() => moduleRef.close());

  it('wires every export from the validated configuration', () => {
    const profiles = moduleRef.get(HermesProfiles);
    expect(profiles.names()).toEqual(['default']);
    expect(profiles.get('default')).toMatchObject({ baseUrl: 'http://127.0.0.1:9' });
    expect(moduleRef.get(HermesClient)).toBeInstanceOf(HermesClient);
    expect(moduleRef.get(HermesHealthIndicator)).toBeInstanceOf(HermesHealthIndicator);
    expect(moduleRef.get(HermesStateReader).enabled('default')).toBe(false);
    expect(moduleRef.get(EphemeralSessionCleanup).active).toBe(false);
  });

  it('has a migration that creates exactly the schema the entity describes', async () => {
    const dataSource = moduleRef.get(DataSource);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    await dataSource.getRepository(HermesCleanupTask).insert({
      profile: 'default',
      upstreamSessionId: 'eph_1',
      nextAttemptAt: 1,
      createdAt: 1,
    });
    expect(await dataSource.getRepository(HermesCleanupTask).findOneBy({ id: 1 })).toMatchObject({
      attempts: 0,
      lastError: null,
    });
  });
});
