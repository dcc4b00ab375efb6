/**
 * A transcript message as the gateway sends it: in `resumed.messages` and, with the same
 * fields, in the REST API's message pages. Kept apart from the events because both surfaces
 * use it.
 */

/** An assistant's tool call, in the OpenAI function-call shape. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: {
    name: string;
    /** JSON text of the arguments. */
    arguments: string;
  };
}

export interface ChatMessage {
  /** The stored id; negative (provisional) for text of the active run not written yet. */
  id: number;
  session_id: string;
  role: 'user' | 'assistant' | 'tool';
  content: string;
  reasoning: string | null;
  /** Unix seconds. */
  timestamp: number;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  tool_name?: string;
  finish_reason?: string;
  /** The gateway's id of the run that wrote the message. */
  run_id?: string;
}
