import type { HermesRunEvent, RunCompletedPayload } from '../../hermes/hermes-events';
import type { NewMessage, ToolCall } from '../../sessions/session.types';
import {
  NormalisedContent,
  normaliseAssistantContent,
  normaliseBlocks,
  parseContentArray,
} from '../../content/content-blocks';
import {
  currentAssistantIndex,
  DraftMessage,
  mergeCalls,
  RunTranscript,
  RunTranscriptStatus,
  updateCurrentAssistant,
} from './run-transcript';
import { grew } from './text-growth';
import { completeTool, startTool } from './tool-pairing';

export type { DraftMessage, RunTranscript, RunTranscriptStatus } from './run-transcript';
export { TOOL_FAILED_MARKER } from './tool-pairing';

/**
 * Folds ONE run's upstream events into the messages the run adds to its session transcript.
 *
 * Pure and immutable: {@link foldEvent} never mutates its input; it returns a new state in which
 * only the changed message objects and the `messages` array are new (unchanged messages keep their
 * identity, so a persistence layer finds what to write with {@link changedMessageIndices}).
 * Events after the run's terminal event, and events that change nothing, return the same state
 * object. Each event costs at most O(messages of this run).
 *
 * Shape of a run's transcript:
 * - Text and reasoning go to the *current* assistant message: the last message, when it is an open
 *   assistant message. Otherwise (no message yet, or the last one is a tool message) a new
 *   assistant message starts.
 * - `tool.started` adds a call to the assistant message that owns the trailing group of tool
 *   messages (so consecutive tools share one assistant message), else to the current assistant
 *   message, else to a new empty one; that message is closed with `finishReason: 'tool_calls'`,
 *   and a tool message for the call is appended. Ordering of two tools in a row:
 *   `assistant(call1, call2), tool1, tool2`.
 *   Invariant: walking back from any tool message over tool messages, the first other message is
 *   an assistant message whose `toolCalls` contain the tool message's `toolCallId`.
 * - `tool.completed` fills and closes one open tool message (see {@link foldEvent}).
 *   The tool steps and the pairing invariant live in `tool-pairing.ts`.
 * - The terminal event normalises assistant content that is still a stringified block array and
 *   closes every open message.
 */

export function initialTranscript(runId: string): RunTranscript {
  return { runId, messages: [], toolSeq: 0, status: 'running', normalisedAtEnd: false };
}

/**
 * Applies one upstream event:
 * - `message.delta`: appended to the current assistant message's content; a delta that is a whole
 *   stringified block array contributes its text (and its thinking → reasoning, tool_use → calls).
 * - `reasoning.delta` / `thinking.delta` (`text`, else `delta`): appended to its reasoning.
 * - `reasoning.available`: becomes its reasoning when it has none yet.
 * - `tool.started`: see the module comment. The call's id is the upstream's `tool_call_id`, else
 *   `call_<runId>_<n>` with n the run's tool ordinal, so refolding the same events gives the same
 *   ids; `arguments` is `{"preview": …}` or `{}`.
 * - `tool.completed`: the open tool message with the event's `tool_call_id` (a completion for an
 *   already closed id is a duplicate and ignored); with no id, or an id nobody has, the oldest open
 *   tool message of that tool, else the oldest open tool message; none open: ignored. Its content
 *   becomes `output`; without output, `[tool failed]` / `[tool failed: <error>]` when `error` says
 *   so, else ''.
 * - `run.completed`: when no assistant message has non-blank text, the (normalised) `output`
 *   becomes the current assistant message's text, or a new assistant message's. The open assistant
 *   message gets `finishReason` 'stop' (or the event's string `finish_reason`); an assistant message
 *   that called tools keeps 'tool_calls'. Open tool messages are closed as they are.
 * - `run.failed` / `run.cancelled`: partial text is kept; open messages are closed with
 *   `finishReason` 'error' / 'cancelled'.
 * - Anything else: the same state.
 */
export function foldEvent(state: RunTranscript, event: HermesRunEvent): RunTranscript {
  if (state.status !== 'running') return state;
  switch (event.type) {
    case 'message.delta':
      return appendDelta(state, event.payload.delta);
    case 'reasoning.delta':
    case 'thinking.delta':
      return appendReasoning(state, event.payload.text || event.payload.delta || '');
    case 'reasoning.available':
      return setReasoning(state, event.payload.text);
    case 'tool.started':
      return startTool(state, event.payload);
    case 'tool.completed':
      return completeTool(state, event.payload);
    case 'run.completed':
      return completeRun(state, event.payload);
    case 'run.failed':
      return endRun(normaliseArrays(state), 'failed', 'error');
    case 'run.cancelled':
      return endRun(normaliseArrays(state), 'cancelled', 'cancelled');
    default:
      return state;
  }
}

/** Folds a whole sequence from the initial state (replay, tests). */
export function foldEvents(runId: string, events: Iterable<HermesRunEvent>): RunTranscript {
  let state = initialTranscript(runId);
  for (const event of events) state = foldEvent(state, event);
  return state;
}

/** Indices of `after.messages` that are new or replaced since `before` (by identity). */
export function changedMessageIndices(before: RunTranscript, after: RunTranscript): number[] {
  const changed: number[] = [];
  for (let i = 0; i < after.messages.length; i++) {
    if (after.messages[i] !== before.messages[i]) changed.push(i);
  }
  return changed;
}

export interface CompletionAnnotations {
  parsed_content?: string;
  parsed_tool_calls?: ToolCall[] | null;
  parsed_reasoning?: string | null;
}

/**
 * The extra fields of the outgoing `run.completed` (hermes-studio's client reads them), given the
 * transcript after folding that event: `parsed_content` is the text of an `output` that is a
 * stringified block array; and when the terminal event had to normalise a stringified array left
 * in an assistant message, all three fields describe the run's last assistant message. Otherwise
 * no field.
 */
export function completionAnnotations(
  state: RunTranscript,
  payload: RunCompletedPayload,
): CompletionAnnotations {
  const annotations: CompletionAnnotations = {};
  if (typeof payload.output === 'string') {
    const blocks = parseContentArray(payload.output);
    if (blocks !== null) annotations.parsed_content = normaliseBlocks(blocks).content;
  }
  if (state.normalisedAtEnd) {
    const last = state.messages.findLast((message) => message.role === 'assistant');
    if (last !== undefined) {
      annotations.parsed_content = last.content;
      annotations.parsed_tool_calls = last.toolCalls?.length ? last.toolCalls : null;
      annotations.parsed_reasoning = last.reasoning || null;
    }
  }
  return annotations;
}

/** The drafts as storable messages, one for one and in order. */
export function toNewMessages(state: RunTranscript, runId: string): NewMessage[] {
  return state.messages.map((draft) => ({
    role: draft.role,
    content: draft.content,
    reasoning: draft.reasoning,
    toolCalls: draft.toolCalls?.length ? [...draft.toolCalls] : null,
    toolCallId: draft.toolCallId,
    toolName: draft.toolName,
    finishReason: draft.finishReason,
    runId,
  }));
}

// ---------------------------------------------------------------------------------------------

function appendDelta(state: RunTranscript, delta: string): RunTranscript {
  if (delta === '') return state;
  const blocks = parseContentArray(delta);
  const piece: NormalisedContent =
    blocks === null ? { content: delta, reasoning: null, toolCalls: [] } : normaliseBlocks(blocks);
  if (piece.content === '' && piece.reasoning === null && piece.toolCalls.length === 0)
    return state;
  return updateCurrentAssistant(state, (message) =>
    grew(
      message,
      {
        ...message,
        content: message.content + piece.content,
        reasoning:
          piece.reasoning === null
            ? message.reasoning
            : (message.reasoning ?? '') + piece.reasoning,
        toolCalls: mergeCalls(message.toolCalls, piece.toolCalls),
      },
      piece.content,
      piece.reasoning ?? '',
    ),
  );
}

function appendReasoning(state: RunTranscript, text: string): RunTranscript {
  if (text === '') return state;
  return updateCurrentAssistant(state, (message) =>
    grew(message, { ...message, reasoning: (message.reasoning ?? '') + text }, '', text),
  );
}

function setReasoning(state: RunTranscript, text: string): RunTranscript {
  if (text === '') return state;
  const current = currentAssistantIndex(state.messages);
  if (current >= 0 && state.messages[current].reasoning) return state;
  // Only a message without reasoning (or with '') gets it: the text is added to nothing.
  return updateCurrentAssistant(state, (message) =>
    grew(message, { ...message, reasoning: text }, '', text),
  );
}

function completeRun(state: RunTranscript, payload: RunCompletedPayload): RunTranscript {
  let next = normaliseArrays(state);
  const output = payload.output;
  const producedText = next.messages.some(
    (message) => message.role === 'assistant' && message.content.trim() !== '',
  );
  if (!producedText && typeof output === 'string' && output.trim() !== '') {
    const piece = normaliseAssistantContent(output);
    next = updateCurrentAssistant(next, (message) => ({
      ...message,
      content: piece.content,
      reasoning: message.reasoning || piece.reasoning,
      toolCalls: mergeCalls(message.toolCalls, piece.toolCalls),
    }));
  }
  const finishReason =
    typeof payload.finish_reason === 'string' && payload.finish_reason !== ''
      ? payload.finish_reason
      : 'stop';
  return endRun(next, 'completed', finishReason);
}

/** Closes every open message; open assistant messages get `finishReason` (tools too unless the run completed). */
function endRun(
  state: RunTranscript,
  status: Exclude<RunTranscriptStatus, 'running'>,
  finishReason: string,
): RunTranscript {
  let messages: DraftMessage[] | null = null;
  for (let i = 0; i < state.messages.length; i++) {
    const message = state.messages[i];
    if (!message.open) continue;
    messages ??= state.messages.slice();
    const reason =
      message.role === 'assistant' || status !== 'completed'
        ? (message.finishReason ?? finishReason)
        : message.finishReason;
    messages[i] = { ...message, open: false, finishReason: reason };
  }
  return { ...state, messages: messages ?? state.messages, status };
}

/** Normalises assistant messages whose accumulated content is still a stringified block array. */
function normaliseArrays(state: RunTranscript): RunTranscript {
  let messages: DraftMessage[] | null = null;
  for (let i = 0; i < state.messages.length; i++) {
    const message = state.messages[i];
    if (message.role !== 'assistant') continue;
    const blocks = parseContentArray(message.content);
    if (blocks === null) continue;
    const piece = normaliseBlocks(blocks);
    messages ??= state.messages.slice();
    messages[i] = {
      ...message,
      content: piece.content,
      reasoning: message.reasoning || piece.reasoning,
      toolCalls: mergeCalls(message.toolCalls, piece.toolCalls),
    };
  }
  return messages === null ? state : { ...state, messages, normalisedAtEnd: true };
}
