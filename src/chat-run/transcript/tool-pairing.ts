import type { ToolCompletedPayload, ToolStartedPayload } from '../../hermes/hermes-events';
import type { ToolCall } from '../../sessions/session.types';
import {
  currentAssistantIndex,
  DraftMessage,
  EMPTY_ASSISTANT,
  mergeCalls,
  replaceAt,
  RunTranscript,
} from './run-transcript';
import { grew } from './text-growth';

/**
 * Pairs tool calls with their results in a run's transcript (the `tool.started` and
 * `tool.completed` steps of `foldEvent`).
 *
 * Invariant kept here: walking back from any tool message over tool messages, the first other
 * message is an assistant message whose `toolCalls` contain the tool message's `toolCallId`.
 */

/** `tool.completed` with neither `output` nor a string `error`, but `error: true`. */
export const TOOL_FAILED_MARKER = '[tool failed]';

/**
 * Adds the call to the assistant message that owns the trailing group of tool messages (so
 * consecutive tools share one assistant message), else to the current assistant message, else to
 * a new empty one; closes that message with `finishReason: 'tool_calls'` and appends an open tool
 * message for the call. The call's id is the upstream's `tool_call_id`, else `call_<runId>_<n>`
 * with n the run's tool ordinal, so refolding the same events gives the same ids.
 */
export function startTool(state: RunTranscript, payload: ToolStartedPayload): RunTranscript {
  const toolSeq = state.toolSeq + 1;
  const id = payload.tool_call_id || `call_${state.runId}_${toolSeq}`;
  const call: ToolCall = {
    id,
    type: 'function',
    function: {
      name: payload.tool,
      arguments:
        payload.preview === undefined ? '{}' : JSON.stringify({ preview: payload.preview }),
    },
  };
  const messages = state.messages.slice();
  const ownerIndex = toolOwnerIndex(messages);
  const owner = ownerIndex >= 0 ? messages[ownerIndex] : EMPTY_ASSISTANT;
  // Its text is as it was: a write of it sends none of the text again.
  const updated = grew(
    owner,
    {
      ...owner,
      toolCalls: mergeCalls(owner.toolCalls, [call]),
      finishReason: 'tool_calls',
      open: false,
    },
    '',
    '',
  );
  if (ownerIndex >= 0) messages[ownerIndex] = updated;
  else messages.push(updated);
  messages.push({
    role: 'tool',
    content: '',
    reasoning: null,
    toolCalls: null,
    toolCallId: id,
    toolName: payload.tool,
    finishReason: null,
    open: true,
  });
  return { ...state, messages, toolSeq };
}

/** Fills and closes the tool message the completion belongs to (see {@link toolToComplete}). */
export function completeTool(state: RunTranscript, payload: ToolCompletedPayload): RunTranscript {
  const index = toolToComplete(state.messages, payload);
  if (index < 0) return state;
  const content =
    typeof payload.output === 'string'
      ? payload.output
      : payload.error === true
        ? TOOL_FAILED_MARKER
        : typeof payload.error === 'string' && payload.error !== ''
          ? `[tool failed: ${payload.error}]`
          : '';
  return replaceAt(state, index, { ...state.messages[index], content, open: false });
}

/**
 * The open tool message with the event's `tool_call_id` (-1 for an id whose message is already
 * closed: a duplicate); with no id, or an id nobody has, the oldest open tool message of that
 * tool, else the oldest open tool message, else -1.
 */
function toolToComplete(messages: readonly DraftMessage[], payload: ToolCompletedPayload): number {
  const id = payload.tool_call_id;
  if (typeof id === 'string' && id !== '') {
    let known = false;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      if (message.role !== 'tool' || message.toolCallId !== id) continue;
      if (message.open) return i;
      known = true;
    }
    if (known) return -1; // a second completion of a finished call
  }
  let oldestOpen = -1;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (message.role !== 'tool' || !message.open) continue;
    if (message.toolName === payload.tool) return i;
    if (oldestOpen < 0) oldestOpen = i;
  }
  return oldestOpen;
}

/**
 * Where a new tool call goes: the assistant message before the trailing tool messages (by the
 * invariant it is the one that called them), else the current assistant message, else -1 (a new
 * one).
 */
function toolOwnerIndex(messages: readonly DraftMessage[]): number {
  let i = messages.length - 1;
  if (i < 0) return -1;
  if (messages[i].role !== 'tool') return currentAssistantIndex(messages);
  while (i >= 0 && messages[i].role === 'tool') i--;
  return i;
}
