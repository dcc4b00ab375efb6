import { Database, type Statement } from 'sqlite3';
import { get_encoding } from 'tiktoken';

/** A session to write straight into the gateway's SQLite database. */
export interface SeedSession {
  id: string;
  /** Prior turns: each is one user message and one assistant reply. */
  turns: number;
}

const WORDS = (
  'the gateway streams every delta of a run to each client in the session room while the ' +
  'transcript is stored in batches and the event log keeps a bounded window for exact replay ' +
  'after a reload or a restart so nothing is lost and nothing is sent twice'
).split(' ');

/** Deterministic prose of about `bytes` bytes; varies with `seed` so rows are not identical. */
function prose(seed: number, bytes: number): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const word = WORDS[(seed * 7 + i * 13) % WORDS.length];
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ');
}

/** A user message of ~100 bytes and an assistant reply of ~400: a typical chat turn. */
export const USER_BYTES = 100;
export const ASSISTANT_BYTES = 400;

function promisify<T>(call: (done: (error: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    call((error, value) => (error ? reject(error) : resolve(value as T))),
  );
}

function run(db: Database, sql: string, params: unknown[] = []): Promise<void> {
  return promisify((done) => db.run(sql, params, (error: Error | null) => done(error)));
}

function all<T>(db: Database, sql: string): Promise<T[]> {
  return promisify<T[]>((done) =>
    db.all(sql, (error: Error | null, rows: T[]) => done(error, rows)),
  );
}

function stmtRun(stmt: Statement, params: unknown[]): Promise<void> {
  return promisify((done) => stmt.run(params, (error: Error | null) => done(error)));
}

/**
 * Writes sessions with their transcripts "directly into the database" (the gateway must be
 * stopped, with migrations already applied). One transaction and prepared statements, so
 * 100,000 rows take seconds. Token counts use tiktoken's cl100k_base, as the gateway's
 * TokenCounter does for unnamed models, so context estimates match what the server would store.
 */
export async function seedSessions(
  dbPath: string,
  sessions: readonly SeedSession[],
): Promise<void> {
  const db = await promisify<Database>((done) => {
    const opened: Database = new Database(dbPath, (error) => done(error, opened));
  });
  const encoder = get_encoding('cl100k_base');
  try {
    const sessionColumns = new Set(
      (await all<{ name: string }>(db, "PRAGMA table_info('sessions')")).map((c) => c.name),
    );
    // Columns added by later migrations are filled when present (the schema is evolving).
    const hasContext = sessionColumns.has('context_input_tokens');
    await run(db, 'BEGIN');
    const insertMessage = db.prepare(
      'INSERT INTO messages (session_id, role, content, token_count, timestamp) VALUES (?, ?, ?, ?, ?)',
    );
    const now = Date.now() / 1000;
    for (const session of sessions) {
      const start = now - session.turns * 60;
      let userTokens = 0;
      let assistantTokens = 0;
      await run(
        db,
        'INSERT INTO sessions (id, profile, title, preview, created_at, last_active, message_count) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?)',
        [session.id, 'default', `bench ${session.id}`, 'bench', start, now, session.turns * 2],
      );
      for (let turn = 0; turn < session.turns; turn++) {
        const user = `${turn}: ${prose(turn, USER_BYTES)}`;
        const assistant = `${turn}: ${prose(turn + 1, ASSISTANT_BYTES)}`;
        const u = encoder.encode_ordinary(user).length;
        const a = encoder.encode_ordinary(assistant).length;
        userTokens += u;
        assistantTokens += a;
        const at = start + turn * 60;
        await stmtRun(insertMessage, [session.id, 'user', user, u, at]);
        await stmtRun(insertMessage, [session.id, 'assistant', assistant, a, at + 30]);
      }
      if (hasContext) {
        await run(
          db,
          'UPDATE sessions SET context_input_tokens = ?, context_output_tokens = ? WHERE id = ?',
          [userTokens, assistantTokens, session.id],
        );
      }
    }
    await promisify((done) => insertMessage.finalize((error) => done(error ?? null)));
    await run(db, 'COMMIT');
  } finally {
    encoder.free();
    await promisify((done) => db.close((error) => done(error)));
  }
}

/** Approximate tokens of one seeded turn (for choosing a context length that triggers). */
export function tokensPerTurn(): number {
  const encoder = get_encoding('cl100k_base');
  try {
    return (
      encoder.encode_ordinary(`1: ${prose(1, USER_BYTES)}`).length +
      encoder.encode_ordinary(`1: ${prose(2, ASSISTANT_BYTES)}`).length
    );
  } finally {
    encoder.free();
  }
}
