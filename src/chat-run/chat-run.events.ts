import type {
  GatewayEventPayloads,
  StateEventName,
  ChatMessage,
} from '@hermes-chat-gateway/client';
import type { MessageDto } from '../sessions/dto/message.response.dto';

/**
 * The `/chat-run` contract as the server sees it. The wire types live in the client package
 * (`client/src/protocol`), the one source that the server, the typed client and the AsyncAPI
 * check read; this file re-exports them and adds what only the server needs. Every payload is
 * sent through `SessionEmitter`, which adds `event`, `session_id` and (for room events) `seq`.
 */
export type {
  AbortStartedPayload,
  AckCallback,
  AckFailure,
  AckReply,
  AckResults,
  ApprovalRespondPayload,
  CancelQueuedRunPayload,
  ClientRequestName,
  ClientRequestPayloads,
  ClientToServerEvents,
  CompressionCompletedPayload,
  CompressionStartedPayload,
  EventTags,
  GatewayEventName,
  GatewayEventPayloads,
  QueueItemView,
  ResumedPayload,
  ResumedStateEvent,
  ResumeRequestPayload,
  RunCompletedEventPayload,
  RunFailedPayload,
  RunFailureCode,
  RunInputBlock,
  RunRequestPayload,
  ServerToClientEvents,
  SessionRefPayload,
  UpstreamEventPayload,
  WireEvent,
} from '@hermes-chat-gateway/client';

/** A state event of the active run as the server keeps it (`resumed.events` adds `event` to `data`). */
export type RunStateEvent = {
  [K in StateEventName]: { event: K; data: GatewayEventPayloads[K] };
}[StateEventName];

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

/**
 * `resumed.messages` are the REST API's `MessageDto`s: the wire type and the DTO class must
 * have the same fields, so that neither can gain one the other lacks.
 */
export type MessageDtoIsWireMessage = Assert<
  Same<[MessageDto, keyof MessageDto], [ChatMessage, keyof ChatMessage]>
>;
