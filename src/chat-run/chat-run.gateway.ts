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
import { AuthTokenService } from '../common/auth/auth-token.service';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import { HermesClient } from '../hermes/hermes.client';
import { HermesHttpError } from '../hermes/hermes.errors';
import { HermesProfiles } from '../hermes/hermes-profiles';
import {
  ApprovalRespondDto,
  CancelQueuedRunDto,
  ResumePayloadDto,
  RunPayloadDto,
  SessionRefDto,
} from './dto/socket-payloads.dto';
import { parseRunInput } from './dto/run-input';
import { validatePayload } from './dto/validate-payload';
import { ResumeService } from './resume.service';
import { RunExecutor } from './runs/run-executor';
import { RunQueueService } from './runs/run-queue.service';
import { SessionlessRunner } from './runs/sessionless-runner';
import { SessionRuntimes } from './runtime/session-runtimes';
import { ChatNamespace, ChatSocket, SessionEmitter, sessionRoom } from './session-emitter';

type Ack = ((response: AckResponse) => void) | undefined;
type AckResponse =
  | ({ ok: true } & Record<string, unknown>)
  | { ok: false; error: { code: string; message: string } };

interface SocketData {
  profile: string;
}

/**
 * The `/chat-run` namespace. Each handler validates its payload and delegates; answers go to
 * the ack callback when the client gave one, else failures go out as `request.error`.
 */
@WebSocketGateway({ namespace: '/chat-run' })
export class ChatRunGateway implements OnGatewayInit<ChatNamespace> {
  private readonly logger = new Logger(ChatRunGateway.name);

  constructor(
    private readonly auth: AuthTokenService,
    private readonly profiles: HermesProfiles,
    private readonly hermes: HermesClient,
    private readonly queue: RunQueueService,
    private readonly executor: RunExecutor,
    private readonly resume: ResumeService,
    private readonly runtimes: SessionRuntimes,
    private readonly emitter: SessionEmitter,
    private readonly sessionless: SessionlessRunner,
    private readonly config: AppConfig,
  ) {}

  afterInit(namespace: ChatNamespace): void {
    this.emitter.bind(namespace);
    this.runtimes.roomSize = (sessionId) =>
      namespace.adapter.rooms.get(sessionRoom(sessionId))?.size ?? 0;
    namespace.use((socket, next) => {
      const token: unknown = socket.handshake.auth?.token;
      if (!this.auth.verify(typeof token === 'string' ? token : undefined)) {
        return next(new Error('Authentication failed'));
      }
      const requested = socket.handshake.query?.profile;
      const profile = typeof requested === 'string' && requested.length > 0 ? requested : 'default';
      if (!this.profiles.has(profile)) {
        return next(
          new Error(
            `Unknown profile '${profile}'; known profiles: ${this.profiles.names().join(', ')}`,
          ),
        );
      }
      (socket.data as SocketData).profile = profile;
      next();
    });
  }

  @SubscribeMessage('run')
  onRun(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() body: unknown,
    @Ack() ack: Ack,
  ): Promise<void> {
    return this.answer(socket, 'run', ack, body, async () => {
      const payload = validatePayload(RunPayloadDto, body);
      const input = parseRunInput(payload.input, this.config.chatRun.maxInputBytes);
      const profile = (socket.data as SocketData).profile;
      if (!payload.session_id) {
        this.sessionless.start(socket, {
          input,
          profile,
          model: payload.model,
          instructions: payload.instructions,
        });
        return {
          session_id: null,
          status: 'started',
          queue_id: payload.queue_id ?? null,
          queue_length: 0,
        };
      }
      await socket.join(sessionRoom(payload.session_id));
      const accepted = await this.queue.submit({
        sessionId: payload.session_id,
        profile,
        input,
        model: payload.model,
        instructions: payload.instructions,
        queueId: payload.queue_id,
      });
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
    @Ack() ack: Ack,
  ): Promise<void> {
    return this.answer(socket, 'cancel_queued_run', ack, body, async () => {
      const { session_id, queue_id } = validatePayload(CancelQueuedRunDto, body);
      const { removed, queueLength } = await this.queue.cancel(session_id, queue_id);
      return { removed, queue_length: queueLength };
    });
  }

  @SubscribeMessage('resume')
  onResume(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() body: unknown,
    @Ack() ack: Ack,
  ): Promise<void> {
    return this.answer(socket, 'resume', ack, body, async () => {
      const { session_id, after_seq, limit } = validatePayload(ResumePayloadDto, body);
      const answer = await this.resume.resume(socket, session_id, limit, after_seq);
      return { session_id, seq: answer.seq, replayed: answer.replayed ?? null };
    });
  }

  @SubscribeMessage('abort')
  onAbort(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() body: unknown,
    @Ack() ack: Ack,
  ): Promise<void> {
    return this.answer(socket, 'abort', ack, body, async () => {
      const { session_id } = validatePayload(SessionRefDto, body);
      await socket.join(sessionRoom(session_id));
      const runtime = this.runtimes.peek(session_id);
      if (!runtime?.activeRun) {
        // Nothing to stop; told to the asking socket only (the session may not even exist).
        this.emitter.toSocket(
          socket,
          'abort.completed',
          { synced: false, ignored: true },
          session_id,
        );
        return { session_id, aborting: false };
      }
      await this.executor.abort(runtime);
      return { session_id, aborting: true };
    });
  }

  @SubscribeMessage('approval.respond')
  onApproval(
    @ConnectedSocket() socket: ChatSocket,
    @MessageBody() body: unknown,
    @Ack() ack: Ack,
  ): Promise<void> {
    return this.answer(socket, 'approval.respond', ack, body, async () => {
      const { session_id, choice, request_id } = validatePayload(ApprovalRespondDto, body);
      const noPending = new AppError(
        'no_pending_approval',
        `Session '${session_id}' has no run waiting for approval`,
        409,
      );
      const active = this.runtimes.peek(session_id)?.activeRun;
      if (!active?.upstreamRunId) throw noPending;
      try {
        await this.hermes.respondToApproval(
          active.run.profile,
          active.upstreamRunId,
          choice,
          request_id,
        );
      } catch (error) {
        // The upstream's own "nothing pending" (409) or "unknown run" (404).
        if (error instanceof HermesHttpError && (error.status === 404 || error.status === 409)) {
          throw noPending;
        }
        throw error;
      }
      return { session_id };
    });
  }

  /**
   * Runs a handler and answers it: `{ ok: true, ... }` or `{ ok: false, error }` through the
   * ack, or `request.error` without one. Nothing a client sends can throw out of here.
   */
  private async answer(
    socket: ChatSocket,
    request: string,
    ack: Ack,
    body: unknown,
    handler: () => Promise<Record<string, unknown>>,
  ): Promise<void> {
    try {
      const result = await handler();
      ack?.({ ok: true, ...result });
    } catch (error) {
      const { code, message } = this.toError(error, request);
      if (ack) return ack({ ok: false, error: { code, message } });
      const sessionId = sessionIdOf(body);
      this.emitter.toSocket(socket, 'request.error', { request, code, message }, sessionId);
    }
  }

  private toError(error: unknown, request: string): { code: AppError['code']; message: string } {
    if (error instanceof AppError) return { code: error.code, message: error.message };
    const errorId = randomUUID();
    this.logger.error(
      `Socket request ${request} failed (id ${errorId}): ${error instanceof Error ? error.stack : String(error)}`,
    );
    return { code: 'internal_error', message: `Internal server error (id ${errorId})` };
  }
}

function sessionIdOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const id = (body as { session_id?: unknown }).session_id;
  return typeof id === 'string' && id.length <= 128 ? id : undefined;
}
