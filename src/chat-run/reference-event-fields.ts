import type { ResumedStateEvent, RunStateEvent } from './chat-run.events';

/**
 * Event fields that clients of the hermes-studio server (EKKOLearnAI/hermes-studio, whose socket
 * protocol this one is compatible with) may read, and that the gateway's own payloads would
 * otherwise lack. They are added here, where every event passes (the emitter and `resumed`), so
 * the code that produces the events stays free of them:
 *
 * - `run.failed.timestamp`: unix seconds (float). That server forwarded the upstream's
 *   `run.failed`, which carries its time; the gateway builds its own `run.failed`. An event that
 *   already has a timestamp (an upstream one, forwarded as it came) keeps it.
 * - `resumed.events[].data.event`: the state event's name, which that server also kept inside
 *   the payload of every state event it listed.
 */
export function withReferenceFields<P extends object>(event: string, payload: P): P {
  if (event !== 'run.failed' || 'timestamp' in payload) return payload;
  return { ...payload, timestamp: Date.now() / 1000 };
}

/** A state event as `resumed.events` lists it. */
export function asResumedStateEvent(state: RunStateEvent): ResumedStateEvent {
  return { event: state.event, data: { ...state.data, event: state.event } };
}
