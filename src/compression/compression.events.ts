/** What compression tells a session's clients (`compression.started` / `compression.completed`). */

export interface CompressionStartedPayload {
  message_count: number;
  token_count: number;
}

export interface CompressionCompletedPayload {
  compressed: boolean;
  llmCompressed: boolean;
  totalMessages: number;
  resultMessages: number;
  beforeTokens: number;
  afterTokens: number;
  summaryTokens: number;
  verbatimCount: number;
  /** The id of the first message summarised this time (-1 when none was). */
  compressedStartIndex: number;
  error?: string;
}

/** Where `compression.started` / `compression.completed` go (the session's room). */
export interface CompressionListener {
  started(payload: CompressionStartedPayload): void;
  completed(payload: CompressionCompletedPayload): void;
}
