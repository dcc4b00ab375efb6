import type { ToolCall } from '../../sessions/session.types';

/** One message of a run's transcript while the run folds; see `transcript.reducer.ts`. */
export interface DraftMessage {
  readonly role: 'assistant' | 'tool';
  readonly content: string;
  readonly reasoning: string | null;
  /** Never mutated: a changed list is a new array. */
  readonly toolCalls: ToolCall[] | null;
  readonly toolCallId: string | null;
  readonly toolName: string | null;
  readonly finishReason: string | null;
  /** Still receiving text (assistant) or waiting for its result (tool). */
  readonly open: boolean;
}

export type RunTranscriptStatus = 'running' | 'completed' | 'failed' | 'cancelled';

export interface RunTranscript {
  readonly runId: string;
  readonly messages: readonly DraftMessage[];
  /** How many `tool.started` events were folded; numbers the ids made for id-less tool calls. */
  readonly toolSeq: number;
  readonly status: RunTranscriptStatus;
  /**
   * The terminal event found an assistant message still holding a stringified block array and
   * normalised it (`run.completed` then carries that message's parsed fields).
   */
  readonly normalisedAtEnd: boolean;
}

// Immutable helpers shared by the reducer and the tool pairing. Each returns a new state (or
// array) only where something changed, so unchanged messages keep their identity.

export const EMPTY_ASSISTANT: DraftMessage = {
  role: 'assistant',
  content: '',
  reasoning: null,
  toolCalls: null,
  toolCallId: null,
  toolName: null,
  finishReason: null,
  open: true,
};

/** The last message when it is an open assistant message, else -1. */
export function currentAssistantIndex(messages: readonly DraftMessage[]): number {
  const last = messages.length - 1;
  return last >= 0 && messages[last].role === 'assistant' && messages[last].open ? last : -1;
}

export function updateCurrentAssistant(
  state: RunTranscript,
  update: (message: DraftMessage) => DraftMessage,
): RunTranscript {
  const current = currentAssistantIndex(state.messages);
  if (current >= 0) return replaceAt(state, current, update(state.messages[current]));
  return { ...state, messages: [...state.messages, update(EMPTY_ASSISTANT)] };
}

export function replaceAt(
  state: RunTranscript,
  index: number,
  message: DraftMessage,
): RunTranscript {
  const messages = state.messages.slice();
  messages[index] = message;
  return { ...state, messages };
}

/** `current` plus the calls whose id it does not have yet; `current` itself when nothing is new. */
export function mergeCalls(
  current: ToolCall[] | null,
  added: readonly ToolCall[],
): ToolCall[] | null {
  const fresh = added.filter((call) => !current?.some((existing) => existing.id === call.id));
  if (fresh.length === 0) return current;
  return current === null ? fresh : [...current, ...fresh];
}
