import { Injectable } from '@nestjs/common';
import type { MessageDto } from '../sessions/dto/message.response.dto';
import { presentMessage } from '../sessions/session.presenter';
import { SessionRepository } from '../sessions/session.repository';
import { TranscriptStore } from '../sessions/transcript.store';
import type { ResumedPayload, ResumedStateEvent, RunStateEvent } from './chat-run.events';
import { EventLog, type ReplayResult } from './event-log/event-log.service';
import { assembleReplay } from './event-log/logged-event';
import type { RunPipeline } from './runs/run-pipeline';
import { SessionRuntimes } from './runtime/session-runtimes';
import { SessionEmitter, type SocketTarget } from './session-emitter';

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
    private readonly transcripts: TranscriptStore,
    private readonly runtimes: SessionRuntimes,
    private readonly log: EventLog,
    private readonly emitter: SessionEmitter,
  ) {}

  async resume(
    socket: SocketTarget,
    sessionId: string,
    limit = DEFAULT_RESUME_LIMIT,
    afterSeq?: number,
  ): Promise<ResumeAnswer> {
    const runtime = await this.runtimes.acquire(sessionId);
    // Gives the text streamed so far its stored ids; later text is patched in when sending.
    await runtime.activeRun?.flush().catch(() => undefined);
    const facts = await this.transcripts.facts(sessionId);
    if (!facts) return this.resumeNewChat(socket, sessionId, afterSeq);
    // Deleted and created again (or created) through the REST API since the runtime read it.
    if (runtime.facts?.createdAt !== facts.createdAt) await this.runtimes.reload(runtime);
    const page = await this.sessions.listMessages(sessionId, { limit });
    let answer: ResumeAnswer = { seq: 0 };
    const send = (replay?: ReplayResult): void => {
      const messages = page.messages.map(presentMessage);
      const active = runtime.activeRun;
      const appended = active ? overlayActiveRun(messages, active, sessionId) : 0;
      const resumed: ResumedPayload = {
        messages,
        isWorking: runtime.isWorking,
        isAborting: runtime.isAborting,
        events: runtime.isWorking ? runtime.stateEvents.map(resumedStateEvent) : [],
        // Stored with the session whenever it changes (before and after every run).
        inputTokens: facts.context.inputTokens,
        outputTokens: facts.context.outputTokens,
        queueLength: runtime.queue.length,
        queue: runtime.queue.map((run) => ({
          queue_id: run.queueId,
          input: run.input,
          created_at: run.createdAt,
        })),
        // The page's own count (one snapshot with the page) plus the drafts it does not hold.
        messageTotal: page.total + appended,
        messageLoadedCount: page.messages.length,
        hasMoreBefore: page.hasMore,
        seq: this.log.latestSeq(sessionId),
        ...(replay ? { replayed: replay.complete } : {}),
      };
      this.emitter.toSocket(socket, 'resumed', resumed, sessionId);
      if (replay?.complete) this.emitter.replay(socket, replay.events);
      this.emitter.join(socket, sessionId);
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
  private resumeNewChat(socket: SocketTarget, sessionId: string, afterSeq?: number): ResumeAnswer {
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
      messageLoadedCount: 0,
      hasMoreBefore: false,
      seq: 0,
      ...(replayed === undefined ? {} : { replayed }),
    };
    this.emitter.toSocket(socket, 'resumed', resumed, sessionId);
    // The first run's events, from whichever socket sends it, reach this one.
    this.emitter.join(socket, sessionId);
    return { seq: 0, ...(replayed === undefined ? {} : { replayed }) };
  }
}

/** A state event as `resumed.events` lists it: its payload names the event too. */
function resumedStateEvent(state: RunStateEvent): ResumedStateEvent {
  return { event: state.event, data: { ...state.data, event: state.event } };
}

/**
 * Replaces the stored versions of the active run's messages by their in-memory drafts (text that
 * streamed after the last write) and appends drafts not written yet, with provisional negative
 * ids. Returns how many were appended: exactly the drafts the page's count does not include
 * (not stored yet, or stored after the page was read).
 */
function overlayActiveRun(messages: MessageDto[], active: RunPipeline, sessionId: string): number {
  const drafts = active.drafts;
  const ids = active.storedIds;
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
      runId: active.runId,
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
