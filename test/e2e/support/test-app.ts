import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { AppModule } from '../../../src/app.module';
import { configureApp } from '../../../src/app.setup';

/** PostgreSQL for `npm run test:postgres` (TEST_DATABASE=postgres); SQLite files otherwise. */
export const usePostgres = process.env.TEST_DATABASE === 'postgres';
export const POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestApp {
  app: INestApplication;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  token: string;
  dataDir: string;
  env: Record<string, string>;
  auth: { Authorization: string };
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Reuse the database (and data dir) of an earlier app, e.g. to test a restart. */
  reuse?: Pick<TestApp, 'dataDir' | 'env'>;
}

/**
 * Boots the whole application on an ephemeral port, against its own temporary SQLite file
 * (or its own PostgreSQL schema), exactly as `main.ts` configures it.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.reuse?.dataDir ?? (await mkdtemp(join(tmpdir(), 'gateway-e2e-')));
  const token = options.env?.AUTH_TOKEN ?? randomBytes(24).toString('hex');
  const env: Record<string, string> = options.reuse?.env ?? {
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    AUTH_TOKEN: token,
    AUTH_DISABLED: '',
    CORS_ORIGINS: '',
    ...(usePostgres
      ? { DATABASE_URL: POSTGRES_URL, DATABASE_SCHEMA: uniqueSchema() }
      : { DATABASE_URL: '' }),
    ...options.env,
  };
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(env)] }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bufferLogs: true });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const effectiveToken = env.AUTH_TOKEN ?? token;
  return {
    app,
    url,
    token: effectiveToken,
    dataDir,
    env,
    auth: { Authorization: `Bearer ${effectiveToken}` },
    close: () => app.close(),
  };
}

/** Removes what a test app left behind: its data dir and, on PostgreSQL, its schema. */
export async function destroyTestApp(testApp: Pick<TestApp, 'dataDir' | 'env'>): Promise<void> {
  await rm(testApp.dataDir, { recursive: true, force: true });
  const schema = testApp.env.DATABASE_SCHEMA;
  if (usePostgres && schema) {
    const client = new Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  }
}

function uniqueSchema(): string {
  return `e2e_${process.pid}_${randomBytes(4).toString('hex')}`;
}
