import { previewText } from '../../content/content-blocks';
import { makePreview } from '../../sessions/session.mapper';
import type { NewSessionRow } from '../../sessions/transcript.store';
import type { RunRequest } from './run-queue.service';
import type { SessionRuntime } from '../runtime/session-runtime';
import type { StoredUserMessage } from './run-ledger';
import type { RunRecord } from './run.store';

/** The row of a session that its first `run` creates: titled after the run's input. */
export function newSessionRow(request: RunRequest, now: number): NewSessionRow {
  return {
    id: request.sessionId,
    profile: request.profile,
    model: request.model ?? null,
    title: makePreview(previewText(request.input)) || null,
    createdAt: now,
  };
}

/** A session created with this run: its history window starts with the run's user message. */
export function startFresh(
  runtime: SessionRuntime,
  run: RunRecord,
  message: StoredUserMessage,
): void {
  runtime.history.startFresh(runtime.facts?.createdAt ?? run.createdAt, [
    {
      id: message.id,
      role: 'user',
      content: run.input,
      toolCalls: null,
      toolCallId: null,
      toolName: null,
      tokenCount: message.tokenCount,
    },
  ]);
}
