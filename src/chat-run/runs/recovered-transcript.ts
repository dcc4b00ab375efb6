import type { RunCompletedPayload } from '../../hermes/hermes-events';
import type { Message } from '../../sessions/session.types';
import { normaliseAssistantContent } from '../../content/content-blocks';
import {
  foldEvent,
  initialTranscript,
  type DraftMessage,
  type RunTranscript,
} from '../transcript/transcript.reducer';

/**
 * The transcript of a run as the store has it (after a restart): the drafts the writer already
 * stored, still open, so the run's final output can complete them.
 */
export function transcriptFromStored(runId: string, stored: readonly Message[]): RunTranscript {
  const messages = stored
    .filter(
      (message): message is Message & { role: DraftMessage['role'] } => message.role !== 'user',
    )
    .map((message): DraftMessage => ({
      role: message.role,
      content: message.content,
      reasoning: message.reasoning,
      toolCalls: message.toolCalls,
      toolCallId: message.toolCallId,
      toolName: message.toolName,
      finishReason: message.finishReason,
      open: message.finishReason === null,
    }));
  const toolSeq = messages.filter((message) => message.role === 'tool').length;
  return { ...initialTranscript(runId), messages, toolSeq };
}

/**
 * Completes a transcript from the run's status (its stream was lost): the final output replaces
 * the partial text of the last assistant message, since the stream stopped somewhere inside it.
 */
export function withFinalOutput(
  transcript: RunTranscript,
  payload: RunCompletedPayload,
): RunTranscript {
  const last = findLastAssistant(transcript.messages);
  if (last < 0 || !payload.output) return foldEvent(transcript, { type: 'run.completed', payload });
  if (last < transcript.messages.length - 1) {
    // Tool results came after the last text: the final answer is a new assistant turn.
    const delta = {
      event: 'message.delta' as const,
      run_id: payload.run_id,
      timestamp: payload.timestamp,
      delta: normaliseAssistantContent(payload.output).content,
    };
    const answered = foldEvent(transcript, { type: 'message.delta', payload: delta });
    return foldEvent(answered, { type: 'run.completed', payload });
  }
  const final = normaliseAssistantContent(payload.output);
  const messages = [...transcript.messages];
  const partial = messages[last];
  messages[last] = {
    ...partial,
    // The stream stopped inside this message: the upstream's final text is the whole of it.
    content: final.content.length > 0 ? final.content : partial.content,
    reasoning: partial.reasoning ?? final.reasoning,
  };
  return foldEvent({ ...transcript, messages }, { type: 'run.completed', payload });
}

function findLastAssistant(messages: readonly DraftMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'assistant') return i;
  return -1;
}
