export class ToolCallFunctionDto {
  name!: string;
  /** JSON text of the arguments. */
  arguments!: string;
}

export class ToolCallDto {
  id!: string;
  type!: 'function';
  function!: ToolCallFunctionDto;
}

/** One transcript message, as in the socket protocol's `resumed.messages`. */
export class MessageDto {
  id!: number;
  session_id!: string;
  role!: 'user' | 'assistant' | 'tool';
  content!: string;
  reasoning!: string | null;
  /** Unix seconds. */
  timestamp!: number;
  tool_calls?: ToolCallDto[];
  tool_call_id?: string;
  tool_name?: string;
  finish_reason?: string;
  run_id?: string;
}

export class MessagePageDto {
  /** Chronological order; the first request returns the newest page. */
  messages!: MessageDto[];
  /** Older messages exist: ask again with `before` = the first message's id. */
  hasMore!: boolean;
}
