import type { SqlClient } from '../database/sql/sql-client';

/** The columns of a message row, as `Message` is read from them. */
const MESSAGE_COLUMNS =
  'id, session_id, role, content, reasoning, tool_calls, tool_call_id, tool_name, ' +
  'finish_reason, run_id, token_count, timestamp';

/** The one UPDATE of a session row that writes of the run path make (see `SessionChange`). */
function touchSessionSql(sessions: string): string {
  return (
    `UPDATE ${sessions} SET message_count = message_count + ?, last_active = ?, ` +
    `preview = COALESCE(preview, ?), ` +
    `title = CASE WHEN message_count = 0 THEN COALESCE(title, ?) ELSE title END, ` +
    `context_input_tokens = COALESCE(?, context_input_tokens), ` +
    `context_output_tokens = COALESCE(?, context_output_tokens), ` +
    `input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, ` +
    `cache_read_tokens = cache_read_tokens + ?, cache_write_tokens = cache_write_tokens + ?, ` +
    `reasoning_tokens = reasoning_tokens + ?`
  );
}

/** The statements of `TranscriptStore`, prepared once. */
export function transcriptStatements(sql: SqlClient) {
  const sessions = sql.table('sessions');
  const messages = sql.table('messages');
  return {
    facts: sql.statement(
      `SELECT id, profile, workspace, created_at, message_count, context_input_tokens, ` +
        `context_output_tokens FROM ${sessions} WHERE id = ?`,
    ),
    createSession: sql.statement(
      `INSERT INTO ${sessions} (id, profile, model, title, preview, message_count, created_at, ` +
        `last_active) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    insertMessage: sql.statement(
      `INSERT INTO ${messages} (session_id, role, content, reasoning, tool_calls, tool_call_id, ` +
        `tool_name, finish_reason, run_id, token_count, timestamp) ` +
        `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    ),
    updateMessage: sql.statement(
      `UPDATE ${messages} SET content = ?, reasoning = ?, tool_calls = ?, tool_call_id = ?, ` +
        `tool_name = ?, finish_reason = ?, token_count = COALESCE(?, token_count) ` +
        `WHERE id = ? AND session_id = ?`,
    ),
    // Text that only grew since it was stored: what was added is sent and appended. A NULL
    // reasoning stays NULL with a NULL tail and becomes the tail otherwise.
    appendToMessage: sql.statement(
      `UPDATE ${messages} SET content = content || ?, reasoning = COALESCE(reasoning || ?, ?), ` +
        `tool_calls = ?, tool_call_id = ?, tool_name = ?, finish_reason = ? ` +
        `WHERE id = ? AND session_id = ?`,
    ),
    touchSession: sql.statement(`${touchSessionSql(sessions)} WHERE id = ?`),
    touchSame: sql.statement(`${touchSessionSql(sessions)} WHERE id = ? AND created_at = ?`),
    history: sql.statement(
      `SELECT id, role, content, tool_calls, tool_call_id, tool_name, token_count ` +
        `FROM ${messages} WHERE session_id = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?`,
    ),
    tokensAfter: sql.statement(
      `SELECT role, COALESCE(SUM(token_count), 0) AS tokens, COUNT(*) AS messages ` +
        `FROM ${messages} WHERE session_id = ? AND id > ? GROUP BY role`,
    ),
    ofRun: sql.statement(
      `SELECT ${MESSAGE_COLUMNS} FROM ${messages} WHERE session_id = ? AND run_id = ? ORDER BY id`,
    ),
  };
}
