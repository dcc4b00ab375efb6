import { Logger } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import { LeaseLostError } from '../cluster/session-leases';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import type { AckCallback, AckResults, ClientRequestName } from './chat-run.events';
import { ChatHandshake } from './chat-handshake';
import { SocketLimits } from './connection/socket-limits';
import {
  ApprovalRespondDto,
  CancelQueuedRunDto,
  ResumePayloadDto,
  RunPayloadDto,
  SessionRefDto,
} from './dto/socket-payloads.dto';
import { parseRunInput } from './dto/run-input';
import { validatePayload } from './dto/validate-payload';
import { answerRefusal } from './request-refusal';
import { RunQueueService } from './runs/run-queue.service';
import { CHAT_NAMESPACE, ChatNamespace, ChatSocket, SessionEmitter } from './session-emitter';
import { SessionRequests } from './session-requests';

/**
 * The `/chat-run` namespace: a door. The handshake authenticates (middleware), then the socket
 * gets its limits (frame size, event rate, send backlog); each handler validates its payload
 * and delegates: a session's requests to the instance that holds the session, a session-less
 * run to the queue. Answers go to the ack callback when the client gave one, else failures go
 * out as `request.error`.
 */
@WebSocketGateway({ namespace: CHAT_NAMESPACE })
export class ChatRunGateway implements OnGatewayInit<ChatNamespace> {
  private readonly logger = new Logger(ChatRunGateway.name);

  constructor(
    private readonly handshake: ChatHandshake,
    private readonly limits: SocketLimits,
    private readonly sessions: SessionRequests,
    private readonly queue: RunQueueService,
    private readonly emitter: SessionEmitter,
    private readonly config: AppConfig,
  ) {}

  afterInit(namespace: ChatNamespace): void {
    this.emitter.bind(namespace);
    this.sessions.listen(namespace);
    namespace.use(this.handshake.admit);
    namespace.use(this.limits.admit);
  }

  @SubscribeMessage('run')
  onRun(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() body: unknown,
    @Ack() ack: AckCallback<'run'> | undefined,
  ): Promise<void> {
    return this.answer(socket, 'run', ack, body, async () => {
      const payload = validatePayload(RunPayloadDto, body);
      const input = parseRunInput(payload.input, this.config.chatRun.maxInputBytes);
      const request = {
        input,
        profile: socket.data.profile,
        model: payload.model,
        instructions: payload.instructions,
      };
      if (!payload.session_id) {
        this.queue.runWithoutSession(socket, request);
        return {
          session_id: null,
          status: 'started',
          queue_id: payload.queue_id ?? null,
          queue_length: 0,
        };
      }
      const accepted = await this.sessions.run(
        { ...request, sessionId: payload.session_id, queueId: payload.queue_id },
        socket,
      );
      return {
        session_id: payload.session_id,
        status: accepted.status,
        queue_id: accepted.queueId,
        queue_length: accepted.queueLength,
      };
    });
  }

  @SubscribeMessage('cancel_queued_run')
  onCancel(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() body: unknown,
    @Ack() ack: AckCallback<'cancel_queued_run'> | undefined,
  ): Promise<void> {
    return this.answer(socket, 'cancel_queued_run', ack, body, async () => {
      const { session_id, queue_id } = validatePayload(CancelQueuedRunDto, body);
      const { removed, queueLength } = await this.sessions.cancel(session_id, queue_id);
      return { removed, queue_length: queueLength };
    });
  }

  @SubscribeMessage('resume')
  onResume(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() body: unknown,
    @Ack() ack: AckCallback<'resume'> | undefined,
  ): Promise<void> {
    return this.answer(socket, 'resume', ack, body, async () => {
      const { session_id, after_seq, limit } = validatePayload(ResumePayloadDto, body);
      const answer = await this.sessions.resume(socket, session_id, limit, after_seq);
      return { session_id, seq: answer.seq, replayed: answer.replayed ?? null };
    });
  }

  @SubscribeMessage('abort')
  onAbort(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() body: unknown,
    @Ack() ack: AckCallback<'abort'> | undefined,
  ): Promise<void> {
    return this.answer(socket, 'abort', ack, body, async () => {
      const { session_id } = validatePayload(SessionRefDto, body);
      const aborting = await this.sessions.abort(session_id, socket);
      if (!aborting) {
        // Nothing to stop; told to the asking socket only (the session may not even exist).
        const ignored = { synced: false, ignored: true };
        this.emitter.toSocket(socket, 'abort.completed', ignored, session_id);
      }
      return { session_id, aborting };
    });
  }

  @SubscribeMessage('approval.respond')
  onApproval(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() body: unknown,
    @Ack() ack: AckCallback<'approval.respond'> | undefined,
  ): Promise<void> {
    return this.answer(socket, 'approval.respond', ack, body, async () => {
      const { session_id, choice, request_id } = validatePayload(ApprovalRespondDto, body);
      await this.sessions.respondToApproval(session_id, choice, request_id);
      return { session_id };
    });
  }

  /**
   * Runs a handler and answers it: `{ ok: true, ... }` or `{ ok: false, error }` through the
   * ack, or `request.error` without one. Nothing a client sends can throw out of here.
   */
  private async answer<K extends ClientRequestName>(
    socket: ChatSocket,
    request: K,
    ack: AckCallback<K> | undefined,
    body: unknown,
    handler: () => Promise<AckResults[K]>,
  ): Promise<void> {
    try {
      const result = await handler();
      ack?.({ ok: true, ...result });
    } catch (error) {
      answerRefusal(this.emitter, socket, { request, body, ack }, this.toError(error, request));
    }
  }

  private toError(error: unknown, request: string): { code: AppError['code']; message: string } {
    if (error instanceof AppError) return { code: error.code, message: error.message };
    // Another instance took the session over while this one worked on it.
    if (error instanceof LeaseLostError) {
      return { code: 'session_moved', message: `${error.message}; send the request again` };
    }
    const errorId = randomUUID();
    this.logger.error(
      `Socket request ${request} failed (id ${errorId}): ${error instanceof Error ? error.stack : String(error)}`,
    );
    return { code: 'internal_error', message: `Internal server error (id ${errorId})` };
  }
}
