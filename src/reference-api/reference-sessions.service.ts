import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { errorMessage } from '../common/errors/error-message';
import { SessionsService } from '../sessions/sessions.service';
import type { Message, Session, TokenTotals } from '../sessions/session.types';

export interface BatchDeleteOutcome {
  deleted: number;
  failed: { id: string; error: string }[];
}

const NO_TOKENS: TokenTotals = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

/**
 * The few places where the hermes-studio client's routes mean something other than one call of
 * `SessionsService`: a chat that was never run is not an error for it (it resumes, names and
 * deletes new chats before their first run), and it wants whole transcripts and several sessions
 * at once. Everything else is the session store's own behaviour.
 */
@Injectable()
export class ReferenceSessionsService {
  constructor(private readonly sessions: SessionsService) {}

  /** The session and its whole transcript, in order. */
  async withTranscript(id: string): Promise<{ session: Session; messages: Message[] }> {
    const session = await this.sessions.get(id);
    const messages: Message[] = [];
    for await (const page of this.sessions.streamMessages(id)) messages.push(...page);
    return { session, messages };
  }

  /** Deletes the session; false when there was none (deleting is idempotent). */
  async remove(id: string): Promise<boolean> {
    try {
      await this.sessions.remove(id);
      return true;
    } catch (error) {
      if (isUnknownSession(error)) return false;
      throw error;
    }
  }

  /** Deletes each session on its own: one that fails does not stop the others. */
  async removeMany(ids: readonly string[]): Promise<BatchDeleteOutcome> {
    const outcome: BatchDeleteOutcome = { deleted: 0, failed: [] };
    for (const id of new Set(ids)) {
      try {
        await this.sessions.remove(id);
        outcome.deleted++;
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        outcome.failed.push({ id, error: errorMessage(error) });
      }
    }
    return outcome;
  }

  /**
   * Sets or (with `''`) clears the workspace. A chat not run yet is created with it, so the
   * workspace chosen for a new chat applies to its first run.
   */
  async setWorkspace(id: string, workspace: string): Promise<void> {
    const value = workspace === '' ? null : workspace;
    try {
      await this.sessions.update(id, { workspace: value });
    } catch (error) {
      if (!isUnknownSession(error)) throw error;
      if (value === null) return;
      await this.sessions.create({ id, workspace: value }).catch((raced: unknown) => {
        // Created meanwhile (its first run started): set the workspace on that one.
        if (raced instanceof AppError && raced.code === 'session_exists') {
          return this.sessions.update(id, { workspace: value });
        }
        throw raced;
      });
    }
  }

  /** Token totals of the sessions that exist among `ids`, by id. */
  async tokensOf(ids: readonly string[]): Promise<Map<string, TokenTotals>> {
    const found = await this.sessions.findMany(ids);
    return new Map(found.map((session) => [session.id, session]));
  }

  /** Token totals of one session; zeros for a chat never run. */
  async tokensOfOne(id: string): Promise<TokenTotals> {
    return (await this.tokensOf([id])).get(id) ?? NO_TOKENS;
  }
}

function isUnknownSession(error: unknown): boolean {
  return error instanceof AppError && error.code === 'unknown_session';
}
