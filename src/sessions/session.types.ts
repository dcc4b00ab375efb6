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

/** The context-size estimate of `usage.updated`: what the next run would send, in tokens. */
export interface ContextEstimate {
  /** The summary and the user turns after it. */
  inputTokens: number;
  /** The assistant and tool turns after the summary. */
  outputTokens: number;
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
  /** The latest context estimate, as last sent in `usage.updated`. */
  context: ContextEstimate;
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
  /** How many of the newest messages (below `before`, if given) to pass over: offset paging. */
  skip?: number;
  limit: number;
}

export interface MessagePage {
  /** Chronological order. */
  messages: Message[];
  hasMore: boolean;
  /**
   * How many messages the session held when the page was read: counted by the same statement
   * that read the page, so a message stored meanwhile is either in both or in neither.
   */
  total: number;
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

/** What the history of a run needs of a stored message (its reasoning is never sent). */
export type HistoryMessage = Pick<
  Message,
  'id' | 'role' | 'content' | 'toolCalls' | 'toolCallId' | 'toolName' | 'tokenCount'
>;

/** Stored token counts of a stretch of the transcript, by the side of the estimate they feed. */
export interface TranscriptTokens {
  userTokens: number;
  otherTokens: number;
  messages: number;
}
