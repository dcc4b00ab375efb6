import { Injectable } from '@nestjs/common';
import { SessionLeases } from '../../cluster/session-leases';
import { GroupCommit } from '../../database/sql/group-commit';
import type { SqlExecutor } from '../../database/sql/sql-client';
import { storedPreviewText } from '../../content/content-blocks';
import type { ContextEstimate, NewMessage } from '../../sessions/session.types';
import {
  TranscriptStore,
  type CountedMessage,
  type NewSessionRow,
} from '../../sessions/transcript.store';
import { UsageStore } from '../../usage/usage.store';
import type { RunUsageInput } from '../../usage/usage.types';
import type { NewRun, RunEnd, RunRecord } from './run.store';
import { RunStore } from './run.store';
import type { TranscriptWrite, TranscriptWriter } from './transcript-writer';

/**
 * The session is not the one the caller read: deleted, deleted and created again, or created
 * by someone else meanwhile. Nothing was written; read it again and retry.
 */
export class SessionChangedError extends Error {
  constructor(sessionId: string) {
    super(`Session ${sessionId} changed while a run was being accepted`);
    this.name = 'SessionChangedError';
  }
}

/** The stored user message of a run that starts. */
export interface StoredUserMessage {
  id: number;
  tokenCount: number;
}

export interface AcceptRequest {
  run: NewRun;
  /** Start now (the user message is stored with the run) or queue. */
  start: boolean;
  /** The `queue_id` came from the client: a recent one of the session makes this a duplicate. */
  clientQueueId: boolean;
  /**
   * The session as the caller knows it: created in this write (with its log's reservation,
   * attached once committed) or existing since `createdAt`.
   */
  session:
    | { create: NewSessionRow; openLog: { write: (tx: SqlExecutor) => Promise<void> } }
    | { createdAt: number };
}

export type Accepted =
  { duplicate: true } | { duplicate: false; userMessage: StoredUserMessage | null };

/** The end of a run, written as one transaction. */
export interface RunSettlement {
  run: RunRecord;
  transcript: TranscriptWrite | null;
  writer: TranscriptWriter;
  end: RunEnd;
  usage: RunUsageInput | null;
  estimate: ContextEstimate;
}

const nowSeconds = (): number => Date.now() / 1000;

/**
 * The durable side of runs: every write a run makes, each one atomic and through the group
 * commit. A run is accepted with its user message in one transaction (so no crash can store the
 * message twice), and it ends with its reply, its record, its usage and the session's counters
 * in one transaction (so the terminal event never announces a reply that is not stored).
 * With several instances, each write first proves that this instance still holds the session
 * (`SessionLeases.guard`): a write of an instance that lost it is rolled back.
 */
@Injectable()
export class RunLedger {
  constructor(
    private readonly commit: GroupCommit,
    private readonly runs: RunStore,
    private readonly transcripts: TranscriptStore,
    private readonly usage: UsageStore,
    private readonly leases: SessionLeases,
  ) {}

  /**
   * Stores a new run, queued or starting (with its user message), and the session itself on
   * its first run. Throws {@link SessionChangedError} when the session is not as the caller
   * read it.
   */
  async accept(request: AcceptRequest): Promise<Accepted> {
    const { run, session } = request;
    const message = request.start ? await this.userMessage(run) : null;
    return this.commit.write(async (tx) => {
      await this.leases.guard(tx, run.sessionId);
      const at = nowSeconds();
      if ('create' in session) {
        // Created with its first message counted and its preview set: nothing to touch.
        const created = await this.transcripts.createSession(tx, {
          ...session.create,
          messageCount: message ? 1 : 0,
          previewFrom: message ? previewOf(message) : undefined,
        });
        if (!created) throw new SessionChangedError(run.sessionId);
        await session.openLog.write(tx);
      } else {
        if (
          request.clientQueueId &&
          (await this.runs.isDuplicate(tx, run.sessionId, run.queueId, at))
        ) {
          return { duplicate: true };
        }
        // First, as the guard: a session deleted (or created again) since it was read fails
        // here, before anything else is written.
        const same = await this.transcripts.touchSame(tx, run.sessionId, session.createdAt, {
          addedMessages: message ? 1 : 0,
          previewFrom: message ? previewOf(message) : undefined,
          at,
        });
        if (!same) throw new SessionChangedError(run.sessionId);
      }
      const userMessage = message ? await this.storeUserMessage(tx, run, message, at) : null;
      await this.runs.insert(tx, run, userMessage ? { userMessageId: userMessage.id } : null, at);
      return { duplicate: false, userMessage };
    });
  }

  /**
   * A queued run starts: its user message is stored and the run marked starting, together.
   * Null when the run is no longer queued.
   */
  async begin(run: RunRecord, createdAt: number): Promise<StoredUserMessage | null> {
    const message = await this.userMessage(run);
    return this.commit.write(async (tx) => {
      await this.leases.guard(tx, run.sessionId);
      const at = nowSeconds();
      // No longer queued (cancelled meanwhile): nothing is written.
      if (!(await this.runs.start(tx, run.id, at))) return null;
      const same = await this.transcripts.touchSame(tx, run.sessionId, createdAt, {
        addedMessages: 1,
        previewFrom: previewOf(message),
        at,
      });
      if (!same) throw new SessionChangedError(run.sessionId);
      const userMessage = await this.storeUserMessage(tx, run, message, at);
      await this.runs.attachUserMessage(tx, run.id, userMessage.id);
      return userMessage;
    });
  }

  /**
   * A run recorded by an earlier version without its user message (which it stored separately,
   * and may not have stored at all before a crash): the message is stored and linked now.
   */
  async attachUserMessage(run: RunRecord): Promise<StoredUserMessage> {
    const message = await this.userMessage(run);
    return this.commit.write(async (tx) => {
      await this.leases.guard(tx, run.sessionId);
      const at = nowSeconds();
      const userMessage = await this.storeUserMessage(tx, run, message, at);
      await this.runs.attachUserMessage(tx, run.id, userMessage.id);
      await this.transcripts.touchSession(tx, run.sessionId, {
        addedMessages: 1,
        previewFrom: previewOf(message),
        at,
      });
      return userMessage;
    });
  }

  /** The upstream accepted the run; the session's context estimate is the one it was sent with. */
  started(
    run: RunRecord,
    upstreamRunId: string,
    aborting: boolean,
    estimate: ContextEstimate | null,
  ): Promise<void> {
    return this.commit.write(async (tx) => {
      await this.leases.guard(tx, run.sessionId);
      await this.runs.running(tx, run.id, upstreamRunId, aborting);
      if (estimate) {
        await this.transcripts.touchSession(tx, run.sessionId, {
          context: estimate,
          at: nowSeconds(),
        });
      }
    });
  }

  aborting(run: RunRecord): Promise<void> {
    return this.commit.write(async (tx) => {
      await this.leases.guard(tx, run.sessionId);
      await this.runs.aborting(tx, run.id);
    });
  }

  cancelQueued(sessionId: string, queueId: string): Promise<boolean> {
    return this.commit.write(async (tx) => {
      await this.leases.guard(tx, sessionId);
      return this.runs.cancelQueued(tx, sessionId, queueId, nowSeconds());
    });
  }

  /** A run whose pipeline broke: it ends as failed, whatever it had stored stays as it is. */
  recordCrashed(run: RunRecord): Promise<void> {
    return this.commit.write(async (tx) => {
      await this.leases.guard(tx, run.sessionId);
      await this.runs.end(
        tx,
        run.id,
        {
          status: 'failed',
          error: 'The run broke inside the gateway',
          errorCode: 'internal_error',
        },
        nowSeconds(),
      );
    });
  }

  /** Text streamed so far (partial drafts, uncounted). */
  async writeDrafts(writer: TranscriptWriter, write: TranscriptWrite): Promise<void> {
    const ids = await this.commit.write(async (tx) => {
      await this.leases.guard(tx, write.sessionId);
      const at = nowSeconds();
      const inserted = await writer.apply(tx, write, at);
      await this.transcripts.touchSession(tx, write.sessionId, {
        addedMessages: inserted.length,
        at,
      });
      return inserted;
    });
    writer.committed(write, ids);
  }

  /** The end of a run: its reply, record, usage and the session's counters, as one write. */
  async settle(settlement: RunSettlement): Promise<void> {
    const { run, transcript, writer } = settlement;
    const ids = await this.commit.write(async (tx) => {
      await this.leases.guard(tx, run.sessionId);
      const at = nowSeconds();
      const inserted = transcript ? await writer.apply(tx, transcript, at) : [];
      await this.runs.end(tx, run.id, settlement.end, at);
      const usage = settlement.usage
        ? await this.usage.insertIn(tx, settlement.usage, at * 1000)
        : undefined;
      await this.transcripts.touchSession(tx, run.sessionId, {
        addedMessages: inserted.length,
        context: settlement.estimate,
        usage,
        at,
      });
      return inserted;
    });
    if (transcript) writer.committed(transcript, ids);
  }

  private async userMessage(run: Pick<RunRecord, 'id' | 'input'>): Promise<CountedMessage> {
    const message: NewMessage = { role: 'user', content: run.input, runId: run.id };
    return { ...message, tokenCount: await this.transcripts.countOf(message) };
  }

  private async storeUserMessage(
    tx: SqlExecutor,
    run: Pick<RunRecord, 'sessionId'>,
    message: CountedMessage,
    at: number,
  ): Promise<StoredUserMessage> {
    const [id] = await this.transcripts.insertMessages(tx, run.sessionId, [message], at);
    return { id, tokenCount: message.tokenCount };
  }
}

/** The user's text of a stored user message, for the session preview. */
function previewOf(message: CountedMessage): string {
  return storedPreviewText(message.content);
}
