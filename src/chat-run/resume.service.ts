import { Injectable } from '@nestjs/common';
import { SessionRepository } from '../sessions/session.repository';
import { presentMessage } from '../sessions/session.presenter';
import type { MessageDto } from '../sessions/dto/message.response.dto';
import type { ResumedPayload } from './chat-run.events';
import { EventLog, type ReplayResult } from './event-log/event-log.service';
import { assembleReplay } from './event-log/logged-event';
import { asResumedStateEvent } from './reference-event-fields';
import { ChatSocket, SessionEmitter, sessionRoom } from './session-emitter';
import { RunStore } from './runs/run.store';
import type { ActiveRun } from './runs/active-run';
import type { RunEntity } from './runs/run.entity';
import { SessionRuntimes } from './runtime/session-runtimes';

export const DEFAULT_RESUME_LIMIT = 200;

export interface ResumeAnswer {
  seq: number;
  replayed?: boolean;
}

/**
 * Answers `resume`: `resumed` (the newest page of messages with the active run's text so far,
 * queue, state), then the replay after `after_seq`, then the live tail. Everything is read first
 * and the last step — snapshot, replay, joining the room — is synchronous, so no live event falls
 * between the snapshot and the live tail and none arrives twice.
 *
 * A session id the server has never seen is a new chat (clients resume a chat before its first
 * run and wait for `resumed`): it gets an empty `resumed` and joins the room, and nothing is
 * stored until its first `run`.
 */
@Injectable()
export class ResumeService {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly runs: RunStore,
    private readonly runtimes: SessionRuntimes,
    private readonly log: EventLog,
    private readonly emitter: SessionEmitter,
  ) {}

  async resume(
    socket: ChatSocket,
    sessionId: string,
    limit = DEFAULT_RESUME_LIMIT,
    afterSeq?: number,
  ): Promise<ResumeAnswer> {
    const session = await this.sessions.findById(sessionId);
    if (!session) return this.resumeNewChat(socket, sessionId, afterSeq);
    const runtime = await this.runtimes.acquire(sessionId);
    // Gives the text streamed so far its stored ids; later text is patched in when sending.
    await runtime.activeRun?.flush().catch(() => undefined);
    const [page, queue] = await Promise.all([
      this.sessions.listMessages(sessionId, { limit }),
      this.runs.queued(sessionId),
    ]);
    let answer: ResumeAnswer = { seq: 0 };
    const send = (replay?: ReplayResult): void => {
      const messages = page.messages.map(presentMessage);
      const active = runtime.activeRun;
      const unsaved = active ? overlayActiveRun(messages, active, sessionId) : 0;
      const resumed: ResumedPayload = {
        messages,
        isWorking: runtime.isWorking,
        isAborting: runtime.isAborting,
        events: runtime.isWorking ? runtime.stateEvents.map(asResumedStateEvent) : [],
        // Stored with the session whenever it changes (before and after every run).
        inputTokens: session.context.inputTokens,
        outputTokens: session.context.outputTokens,
        queueLength: queue.length,
        queue: queue.map((run: RunEntity) => ({
          queue_id: run.queueId,
          input: run.input,
          created_at: run.createdAt,
        })),
        // The page's own count (same snapshot as the page) plus the drafts stored after it or
        // not stored yet: the session row, read before the flush above, may lag behind both.
        messageTotal: page.total + unsaved,
        hasMoreBefore: page.hasMore,
        seq: this.log.latestSeq(sessionId),
        ...(replay ? { replayed: replay.complete } : {}),
      };
      this.emitter.toSocket(socket, 'resumed', resumed, sessionId);
      if (replay?.complete) this.emitter.replay(socket, replay.events);
      void socket.join(sessionRoom(sessionId));
      answer = { seq: resumed.seq, ...(replay ? { replayed: replay.complete } : {}) };
    };
    if (afterSeq === undefined) send();
    else await this.log.replay(sessionId, afterSeq, send);
    return answer;
  }

  /**
   * An empty chat at seq 0. Its event log is not opened (the log hangs off the session row,
   * which the first `run` creates); a cursor is judged as that log would judge it: 0 is complete,
   * anything above was never handed out.
   */
  private resumeNewChat(socket: ChatSocket, sessionId: string, afterSeq?: number): ResumeAnswer {
    const replayed =
      afterSeq === undefined ? undefined : assembleReplay(afterSeq, 0, 0, []).complete;
    const resumed: ResumedPayload = {
      messages: [],
      isWorking: false,
      isAborting: false,
      events: [],
      inputTokens: 0,
      outputTokens: 0,
      queueLength: 0,
      queue: [],
      messageTotal: 0,
      hasMoreBefore: false,
      seq: 0,
      ...(replayed === undefined ? {} : { replayed }),
    };
    this.emitter.toSocket(socket, 'resumed', resumed, sessionId);
    // The first run's events, from whichever socket sends it, reach this one.
    void socket.join(sessionRoom(sessionId));
    return { seq: 0, ...(replayed === undefined ? {} : { replayed }) };
  }
}

/**
 * Replaces the stored versions of the active run's messages by their in-memory drafts (text that
 * streamed after the last write) and appends drafts not written yet, with provisional negative
 * ids. Returns how many were appended: exactly the drafts the page's count does not include
 * (not stored yet, or stored after the page was read).
 */
function overlayActiveRun(messages: MessageDto[], active: ActiveRun, sessionId: string): number {
  const drafts = active.transcript.messages;
  const ids = active.writer.storedIds;
  const byId = new Map(messages.map((message, index) => [message.id, index]));
  const newestListed = messages.reduce((max, message) => Math.max(max, message.id), 0);
  let appended = 0;
  drafts.forEach((draft, index) => {
    const id = ids[index] ?? -(index + 1);
    const dto = presentMessage({
      id,
      sessionId,
      role: draft.role,
      content: draft.content,
      reasoning: draft.reasoning,
      toolCalls: draft.toolCalls,
      toolCallId: draft.toolCallId,
      toolName: draft.toolName,
      finishReason: draft.finishReason,
      runId: active.run.id,
      tokenCount: 0,
      timestamp: Date.now() / 1000,
    });
    const at = byId.get(id);
    if (at !== undefined) {
      dto.timestamp = messages[at].timestamp;
      messages[at] = dto;
    } else if (ids[index] === undefined || id > newestListed) {
      // Not written yet, or written after the page was read.
      messages.push(dto);
      appended++;
    }
  });
  return appended;
}
