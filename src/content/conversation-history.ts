import type { HistoryMessage, ToolCall } from '../sessions/session.types';
import { flattenStoredInput, normaliseAssistantContent } from './content-blocks';

/** One entry of the upstream's `conversation_history`, which keeps only these two strings. */
export interface HistoryTurn {
  role: 'user' | 'assistant';
  content: string;
}

/**
 * Stored messages (oldest first, without the current run's own user message) as the upstream's
 * `conversation_history`. Linear in the number of messages.
 *
 * - user: its text; content stored as a JSON block array is flattened (`[Image: path]`, ...).
 * - assistant: its content (a stringified block array is normalised first), followed by one line
 *   `[Tool call: name(arguments)]` per tool call so the model sees what it did. Reasoning is not
 *   sent. A message with neither text nor calls is skipped.
 * - tool: a user turn `[Tool result (tool_name): content]` (`(no output)` for empty content).
 *
 * Pairing: the upstream has no tool role, so no entry can break a provider's "tool message must
 * follow its call" rule; what is kept is the order: a tool result is never placed before the
 * assistant turn that called it. A result stored before the assistant message that declares its
 * `toolCallId` (out-of-order legacy data) is moved to just after that turn. A result whose caller
 * cannot be found (no id, or an id nobody declares: legacy data) stays where it was stored, still
 * as a user turn: it is never dropped.
 */
export function toConversationHistory(messages: readonly HistoryMessage[]): HistoryTurn[] {
  return renderHistory(messages).turns;
}

/** The history of some messages, with the tool-call ids that decide how they pair. */
export interface RenderedHistory {
  turns: HistoryTurn[];
  /** Ids of the tool calls their assistant messages declare. */
  declared: ReadonlySet<string>;
  /** Ids their tool results answer. */
  answered: ReadonlySet<string>;
}

/** {@link toConversationHistory}, and which call ids the messages declare and answer. */
export function renderHistory(messages: readonly HistoryMessage[]): RenderedHistory {
  const assistants = new Map<number, RenderedAssistant>();
  const callerIndex = new Map<string, number>();
  const answered = new Set<string>();
  messages.forEach((message, index) => {
    if (message.role === 'tool' && message.toolCallId) answered.add(message.toolCallId);
    if (message.role !== 'assistant') return;
    const rendered = renderAssistant(message);
    assistants.set(index, rendered);
    for (const call of rendered.calls) {
      if (call.id && !callerIndex.has(call.id)) callerIndex.set(call.id, index);
    }
  });

  const turns: HistoryTurn[] = [];
  /** Tool results stored before their caller, keyed by the caller's index. */
  const early = new Map<number, HistoryMessage[]>();
  messages.forEach((message, index) => {
    switch (message.role) {
      case 'user':
        turns.push({ role: 'user', content: flattenStoredInput(message.content) });
        return;
      case 'assistant': {
        const rendered = assistants.get(index);
        if (rendered?.text) turns.push({ role: 'assistant', content: rendered.text });
        for (const result of early.get(index) ?? []) turns.push(toolResultTurn(result));
        return;
      }
      case 'tool': {
        const caller = message.toolCallId ? callerIndex.get(message.toolCallId) : undefined;
        if (caller !== undefined && caller > index) {
          const waiting = early.get(caller);
          if (waiting) waiting.push(message);
          else early.set(caller, [message]);
          return;
        }
        turns.push(toolResultTurn(message));
        return;
      }
    }
  });
  return { turns, declared: new Set(callerIndex.keys()), answered };
}

interface RenderedAssistant {
  /** '' when there is nothing to send. */
  text: string;
  calls: readonly ToolCall[];
}

function renderAssistant(message: HistoryMessage): RenderedAssistant {
  const normalised = normaliseAssistantContent(message.content);
  const calls = [...(message.toolCalls ?? [])];
  for (const call of normalised.toolCalls) {
    if (!calls.some((known) => known.id === call.id)) calls.push(call);
  }
  const lines = normalised.content.trim() === '' ? [] : [normalised.content];
  for (const call of calls) {
    lines.push(`[Tool call: ${call.function.name}(${call.function.arguments})]`);
  }
  return { text: lines.join('\n'), calls };
}

function toolResultTurn(message: HistoryMessage): HistoryTurn {
  const label = message.toolName ? `Tool result (${message.toolName})` : 'Tool result';
  const content = message.content === '' ? '(no output)' : message.content;
  return { role: 'user', content: `[${label}: ${content}]` };
}
