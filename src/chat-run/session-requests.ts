import { Injectable, Logger } from '@nestjs/common';
import { AppError, type ErrorCode } from '../common/errors/app-error';
import { LeaseLostError, SessionLeases } from '../cluster/session-leases';
import { RoomInterest } from './cluster/room-interest';
import { EventLog } from './event-log/event-log.service';
import type { LoggedEvent } from './event-log/logged-event';
import { ResumeService, type ResumeAnswer } from './resume.service';
import { RunQueueService, type RunAccepted, type RunRequest } from './runs/run-queue.service';
import { SessionEmitter, type ChatNamespace, type SocketTarget } from './session-emitter';

/**
 * A request about one session, as it travels to the instance that holds the session. `joins` is
 * the id of the socket that sent it, to be joined to the session's room by the holder first.
 */
export type SessionRequest =
  | { op: 'run'; request: RunRequest; joins?: string }
  | { op: 'cancel'; sessionId: string; queueId: string }
  | { op: 'abort'; sessionId: string; joins?: string }
  | { op: 'approval'; sessionId: string; choice: string; requestId?: string }
  | { op: 'resume'; sessionId: string; socketId: string; limit?: number; afterSeq?: number }
  | { op: 'events'; sessionId: string; afterSeq: number; throughSeq: number };

/** What each kind of request answers. */
export interface SessionAnswers {
  run: RunAccepted;
  cancel: { removed: boolean; queueLength: number };
  abort: boolean;
  approval: null;
  resume: ResumeAnswer;
  /** The events in (afterSeq, throughSeq]; null when they were never all handed out. */
  events: LoggedEvent[] | null;
}

/** A request forwarded to the holder, addressed to it (every other instance ignores it). */
export interface ForwardedRequest {
  target: string;
  request: SessionRequest;
}

/** The holder's answer: the result, or the coded error it failed with. */
export type ForwardedAnswer =
  | { ok: true; result: SessionAnswers[SessionRequest['op']] }
  | { ok: false; code: ErrorCode; message: string };

export const FORWARDED_REQUEST = 'session.request';

/**
 * Every request about a session is carried out by the one instance that holds the session: it
 * alone starts its runs, numbers its events and keeps its queue. With one instance that is
 * always this one. With several, the instance a client reached takes the session if nobody
 * holds it, and otherwise forwards the request to the holder (Socket.IO's server-side emit over
 * the Redis adapter) and hands back its answer, errors included, as if it had been local.
 */
@Injectable()
export class SessionRequests {
  private readonly logger = new Logger(SessionRequests.name);
  private namespace: ChatNamespace | undefined;

  constructor(
    private readonly leases: SessionLeases,
    private readonly queue: RunQueueService,
    private readonly resumes: ResumeService,
    private readonly log: EventLog,
    private readonly interest: RoomInterest,
    private readonly emitter: SessionEmitter,
  ) {}

  /** Serves requests forwarded by other instances. */
  listen(namespace: ChatNamespace): void {
    this.namespace = namespace;
    namespace.on(FORWARDED_REQUEST, (forwarded: ForwardedRequest, respond) => {
      if (forwarded.target !== this.leases.instanceId) return respond(null);
      void this.answerForwarded(forwarded.request).then(respond);
    });
  }

  /** Starts or queues a run; `sender` joins the session's room (and hears the run). */
  run(request: RunRequest, sender: SocketTarget): Promise<RunAccepted> {
    return this.route(request.sessionId, { op: 'run', request }, sender);
  }

  cancel(sessionId: string, queueId: string): Promise<SessionAnswers['cancel']> {
    return this.route(sessionId, { op: 'cancel', sessionId, queueId });
  }

  /** Aborts the active run; `sender` joins the session's room (and hears the abort). */
  abort(sessionId: string, sender: SocketTarget): Promise<boolean> {
    return this.route(sessionId, { op: 'abort', sessionId }, sender);
  }

  async respondToApproval(sessionId: string, choice: string, requestId?: string): Promise<void> {
    await this.route(sessionId, { op: 'approval', sessionId, choice, requestId });
  }

  /**
   * With several instances the socket is always named by its id, even when it is this
   * instance's: what is sent to it then takes the adapter's path, the same as the room's events,
   * so the replay, the join and the live events keep one order.
   */
  resume(
    socket: SocketTarget,
    sessionId: string,
    limit?: number,
    afterSeq?: number,
  ): Promise<ResumeAnswer> {
    if (!this.leases.enabled) return this.resumes.resume(socket, sessionId, limit, afterSeq);
    const socketId = typeof socket === 'string' ? socket : socket.id;
    return this.route(sessionId, { op: 'resume', sessionId, socketId, limit, afterSeq });
  }

  /**
   * Several instances: events of a session an instance missed (Redis dropped them), from the
   * log of the instance that holds the session. Never takes the session: with no holder, the
   * events are not to be had (null).
   */
  async events(
    sessionId: string,
    afterSeq: number,
    throughSeq: number,
  ): Promise<LoggedEvent[] | null> {
    const request = { op: 'events', sessionId, afterSeq, throughSeq } as const;
    if (this.leases.holds(sessionId)) return this.execute(request) as Promise<LoggedEvent[] | null>;
    const holder = await this.leases.holder(sessionId);
    if (!holder) return null;
    const answer = await this.forward(holder.owner, request);
    return answer.ok ? (answer.result as LoggedEvent[] | null) : null;
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Carries the request out here or on the holder. The sender's socket (if any) is joined to the
   * room where the request is carried out, right before: on the holder, that join travels ahead
   * of the events that follow it, and a request that never reaches the holder joins nothing.
   */
  private async route<R extends SessionRequest>(
    sessionId: string,
    request: R,
    sender?: SocketTarget,
  ): Promise<SessionAnswers[R['op']]> {
    // An abort or an approval answer needs an active run, which only a holder has: they never
    // take a session nobody holds (a hold that nothing would ever release).
    const takes = request.op !== 'abort' && request.op !== 'approval';
    const here = takes ? await this.leases.acquire(sessionId) : this.leases.holds(sessionId);
    if (here) return this.executeFor(sender, request) as Promise<SessionAnswers[R['op']]>;
    const holder = await this.leases.holder(sessionId);
    if (!holder) {
      // Nobody holds it: no run to abort or answer (answered here), or a hold that lapsed
      // between the two reads (take the session, or forward to whoever did).
      if (!takes) return this.executeFor(sender, request) as Promise<SessionAnswers[R['op']]>;
      return this.route(sessionId, request, sender);
    }
    const joins = sender === undefined ? {} : { joins: socketIdOf(sender) };
    const answer = await this.forward(holder.owner, { ...request, ...joins });
    if (!answer.ok) throw new AppError(answer.code, answer.message, 409);
    return answer.result as SessionAnswers[R['op']];
  }

  private executeFor(
    sender: SocketTarget | undefined,
    request: SessionRequest,
  ): Promise<SessionAnswers[SessionRequest['op']]> {
    if (sender !== undefined) this.emitter.join(sender, sessionOf(request));
    return this.execute(request);
  }

  private execute(request: SessionRequest): Promise<SessionAnswers[SessionRequest['op']]> {
    switch (request.op) {
      case 'run':
        return this.queue.submit(request.request);
      case 'cancel':
        return this.queue.cancel(request.sessionId, request.queueId);
      case 'abort':
        return this.queue.abort(request.sessionId);
      case 'approval':
        return this.queue
          .respondToApproval(request.sessionId, request.choice, request.requestId)
          .then(() => null);
      case 'resume':
        return this.resumes.resume(
          request.socketId,
          request.sessionId,
          request.limit,
          request.afterSeq,
        );
      case 'events':
        return this.loggedEvents(request.sessionId, request.afterSeq, request.throughSeq);
    }
  }

  private async loggedEvents(
    sessionId: string,
    afterSeq: number,
    throughSeq: number,
  ): Promise<LoggedEvent[] | null> {
    if (!this.log.isOpen(sessionId)) return null;
    const replay = await this.log.replay(sessionId, afterSeq);
    return replay.complete ? replay.events.filter((event) => event.seq <= throughSeq) : null;
  }

  private async answerForwarded(request: SessionRequest): Promise<ForwardedAnswer> {
    const sessionId = sessionOf(request);
    try {
      // Forwarded here because this instance held the session; it may have let go since.
      const held =
        request.op === 'events'
          ? this.leases.holds(sessionId)
          : await this.leases.acquire(sessionId);
      if (!held) {
        return { ok: false, code: 'session_moved', message: `Session ${sessionId} moved; retry` };
      }
      // Asked from another instance: a socket there is in the room, or about to be.
      this.interest.shared(sessionId);
      const sender = 'joins' in request ? request.joins : undefined;
      return { ok: true, result: await this.executeFor(sender, request) };
    } catch (error) {
      if (error instanceof AppError) return { ok: false, code: error.code, message: error.message };
      if (error instanceof LeaseLostError) {
        return { ok: false, code: 'session_moved', message: `Session ${sessionId} moved; retry` };
      }
      this.logger.error(
        `Forwarded ${request.op} failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
      return {
        ok: false,
        code: 'internal_error',
        message: 'The instance holding the session failed',
      };
    }
  }

  private forward(owner: string, request: SessionRequest): Promise<ForwardedAnswer> {
    const namespace = this.namespace;
    if (!namespace) throw new Error('SessionRequests is not listening yet');
    return new Promise((resolve) => {
      namespace.serverSideEmit(
        FORWARDED_REQUEST,
        { target: owner, request },
        (error: Error | null, answers: (ForwardedAnswer | null)[]) => {
          const answer = answers?.find((candidate) => candidate !== null);
          if (answer) return resolve(answer);
          resolve({
            ok: false,
            code: 'session_unavailable',
            message:
              `The instance holding session ${sessionOf(request)} did not answer` +
              (error ? ` (${error.message})` : '') +
              '; retry shortly',
          });
        },
      );
    });
  }
}

function socketIdOf(socket: SocketTarget): string {
  return typeof socket === 'string' ? socket : socket.id;
}

function sessionOf(request: SessionRequest): string {
  return request.op === 'run' ? request.request.sessionId : request.sessionId;
}
