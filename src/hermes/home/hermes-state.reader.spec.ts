import { Logger } from '@nestjs/common';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { AppConfig } from '../../config/app-config';
import { HermesProfiles } from '../hermes-profiles';
import { HermesStateReader } from './hermes-state.reader';

/** The part of the upstream's state.db schema the reader relies on (as in hermes_state.py). */
const SCHEMA = `
CREATE TABLE sessions (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, model TEXT, parent_session_id TEXT,
  started_at REAL NOT NULL, ended_at REAL, end_reason TEXT, message_count INTEGER DEFAULT 0,
  input_tokens INTEGER DEFAULT 0, output_tokens INTEGER DEFAULT 0,
  cache_read_tokens INTEGER DEFAULT 0, cache_write_tokens INTEGER DEFAULT 0,
  reasoning_tokens INTEGER DEFAULT 0, title TEXT
);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id),
  role TEXT NOT NULL, content TEXT, tool_call_id TEXT, tool_calls TEXT, tool_name TEXT,
  timestamp REAL NOT NULL, token_count INTEGER, finish_reason TEXT, reasoning TEXT,
  reasoning_content TEXT, reasoning_details TEXT, active INTEGER NOT NULL DEFAULT 1
);`;

const TOOL_CALLS = JSON.stringify([
  { id: 'call_1', type: 'function', function: { name: 'terminal', arguments: '{"command":"ls"}' } },
]);

async function buildStateDb(path: string): Promise<void> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened = new sqlite3.Database(path, (error) => (error ? reject(error) : resolve(opened)));
  });
  const exec = (sql: string) =>
    new Promise<void>((resolve, reject) =>
      db.exec(sql, (error) => (error ? reject(error) : resolve())),
    );
  const run = (sql: string, params: unknown[]) =>
    new Promise<void>((resolve, reject) =>
      db.run(sql, params, (error: Error | null) => (error ? reject(error) : resolve())),
    );
  await exec(SCHEMA);
  await run(
    `INSERT INTO sessions (id, source, model, started_at, ended_at, end_reason, input_tokens,
       output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
     VALUES (?, 'api_server', 'model-x', 100.5, 130.25, 'completed', 1200, 80, 900, 10, 5)`,
    ['eph_1'],
  );
  await run(
    `INSERT INTO sessions (id, source, started_at) VALUES ('eph_other', 'api_server', 1)`,
    [],
  );
  const message = `INSERT INTO messages (session_id, role, content, tool_call_id, tool_calls, tool_name,
       timestamp, token_count, finish_reason, reasoning, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  await run(message, ['eph_1', 'user', 'list files', null, null, null, 101, 3, null, null, 1]);
  await run(message, [
    'eph_1',
    'assistant',
    '',
    null,
    TOOL_CALLS,
    null,
    102,
    10,
    'tool_calls',
    'use ls',
    1,
  ]);
  await run(message, [
    'eph_1',
    'tool',
    'a.txt\nb.txt',
    'call_1',
    null,
    null,
    103,
    4,
    null,
    null,
    1,
  ]);
  await run(message, ['eph_1', 'assistant', 'stale', null, null, null, 103.5, 1, 'stop', null, 0]);
  await run(message, [
    'eph_1',
    'assistant',
    'Two files.',
    null,
    null,
    null,
    104,
    3,
    'stop',
    null,
    1,
  ]);
  await run(message, ['eph_other', 'user', 'elsewhere', null, null, null, 2, 1, null, null, 1]);
  await new Promise<void>((resolve, reject) =>
    db.close((error) => (error ? reject(error) : resolve())),
  );
}

describe('HermesStateReader', () => {
  let dir: string;
  let reader: HermesStateReader;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hermes-home-'));
    const home = join(dir, 'home');
    const empty = join(dir, 'empty-home');
    mkdirSync(home);
    mkdirSync(empty);
    await buildStateDb(join(home, 'state.db'));
    const file = join(dir, 'profiles.json');
    writeFileSync(
      file,
      JSON.stringify({
        profiles: {
          withHome: { url: 'http://h:1', home },
          noDb: { url: 'http://h:2', home: empty },
        },
      }),
    );
    const config = {
      hermes: {
        url: 'http://h:0',
        profilesFile: file,
        contextLength: 128000,
        requestTimeoutMs: 1000,
        streamIdleTimeoutMs: 1000,
      },
    } as AppConfig;
    reader = new HermesStateReader(new HermesProfiles(config));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a finished session: its active messages in order, tool calls and exact usage', async () => {
    const session = await reader.readSession('withHome', 'eph_1');
    expect(session).toMatchObject({
      id: 'eph_1',
      model: 'model-x',
      startedAt: 100.5,
      endedAt: 130.25,
      endReason: 'completed',
      usage: {
        inputTokens: 1200,
        outputTokens: 80,
        cacheReadTokens: 900,
        cacheWriteTokens: 10,
        reasoningTokens: 5,
      },
    });
    expect(session?.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'list files'],
      ['assistant', ''],
      ['tool', 'a.txt\nb.txt'],
      ['assistant', 'Two files.'],
    ]);
    expect(session?.messages[1]).toMatchObject({
      finishReason: 'tool_calls',
      reasoning: 'use ls',
      toolCalls: [
        {
          id: 'call_1',
          type: 'function',
          function: { name: 'terminal', arguments: '{"command":"ls"}' },
        },
      ],
    });
    expect(session?.messages[2]).toMatchObject({
      toolCallId: 'call_1',
      tokenCount: 4,
      timestamp: 103,
    });
  });

  it('returns null for an unknown session and for a profile without home', async () => {
    expect(await reader.readSession('withHome', 'eph_missing')).toBeNull();
    expect(await reader.readSession('default', 'eph_1')).toBeNull();
    expect(reader.enabled('default')).toBe(false);
    expect(reader.enabled('withHome')).toBe(true);
  });

  it('opens the store read-only and never creates it', async () => {
    await expect(reader.readSession('noDb', 'eph_1')).rejects.toThrow(
      /Cannot open .*state\.db read-only/,
    );
    expect(existsSync(join(dir, 'empty-home', 'state.db'))).toBe(false);
  });
});
