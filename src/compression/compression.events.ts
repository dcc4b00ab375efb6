import type {
  CompressionCompletedPayload,
  CompressionStartedPayload,
} from '@hermes-chat-gateway/client';

/** What compression tells a session's clients (`compression.started` / `compression.completed`). */
export type { CompressionCompletedPayload, CompressionStartedPayload };

/** Where `compression.started` / `compression.completed` go (the session's room). */
export interface CompressionListener {
  started(payload: CompressionStartedPayload): void;
  completed(payload: CompressionCompletedPayload): void;
}
