/** Domain shapes of the session store; entities stay behind the repository. */

export type MessageRole = 'user' | 'assistant' | 'tool';
export const MESSAGE_ROLES: readonly MessageRole[] = ['user', 'assistant', 'tool'];

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface TokenTotals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

export interface Session extends TokenTotals {
  id: string;
  profile: string;
  model: string | null;
  title: string | null;
  preview: string | null;
  workspace: string | null;
  createdAt: number;
  lastActive: number;
  messageCount: number;
}

export interface Message {
  id: number;
  sessionId: string;
  role: MessageRole;
  content: string;
  reasoning: string | null;
  toolCalls: ToolCall[] | null;
  toolCallId: string | null;
  toolName: string | null;
  finishReason: string | null;
  runId: string | null;
  tokenCount: number;
  timestamp: number;
}

export interface NewSession {
  id?: string;
  profile?: string;
  model?: string | null;
  title?: string | null;
  workspace?: string | null;
}

export interface SessionPatch {
  title?: string | null;
  workspace?: string | null;
}

export interface NewMessage {
  role: MessageRole;
  content: string;
  reasoning?: string | null;
  toolCalls?: ToolCall[] | null;
  toolCallId?: string | null;
  toolName?: string | null;
  finishReason?: string | null;
  runId?: string | null;
  timestamp?: number;
}

export interface SessionListQuery {
  limit: number;
  cursor?: string;
  profile?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface MessagePageQuery {
  /** Only messages with an id below this one. */
  before?: number;
  limit: number;
}

export interface MessagePage {
  /** Chronological order. */
  messages: Message[];
  hasMore: boolean;
}

export interface SearchHit {
  session: Session;
  /** The newest message whose content matches; null when only the title or preview matched. */
  messageId: number | null;
  snippet: string;
}

/** A later version of a stored message (streamed text that grew, a tool result that arrived). */
export interface MessageUpdate {
  id: number;
  content: string;
  reasoning: string | null;
  toolCalls: ToolCall[] | null;
  toolCallId: string | null;
  toolName: string | null;
  finishReason: string | null;
}

/** Token usage of one finished run, added to the session's totals. */
export type UsageDelta = Partial<TokenTotals>;
