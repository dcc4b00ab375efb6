import type { DraftMessage } from './run-transcript';

/** One step of a draft's growth: the version it grew from and the text added to it. */
interface Growth {
  /** Cut once the writer has stored the draft (nothing before it is asked for again). */
  from: DraftMessage | undefined;
  readonly content: string;
  readonly reasoning: string;
}

/**
 * How long drafts grew, kept beside them (drafts stay plain data): which version each grew from
 * and what was added. The transcript writer stores only the text added since its last write,
 * and reading that off the whole text would cost the whole text: a long string built by `+` is
 * a tree of pieces that V8 copies into one flat string as soon as it is searched or sliced, so a
 * 12 MB reply written once a second would leave 12 MB of garbage every second.
 */
const growth = new WeakMap<DraftMessage, Growth>();

/**
 * Drafts shorter than this (characters of text and reasoning) are not tracked: reading them
 * whole costs little, and a weak-map entry for every streamed delta of every reply costs the
 * relay about a tenth of its CPU (the garbage collector's work on weak entries).
 */
export const TRACKED_FROM_CHARS = 64 * 1024;

/** `grown`, recorded as `from` with `content` and `reasoning` added ('' for nothing). */
export function grew(
  from: DraftMessage,
  grown: DraftMessage,
  content: string,
  reasoning: string,
): DraftMessage {
  if (grown.content.length + (grown.reasoning?.length ?? 0) >= TRACKED_FROM_CHARS) {
    growth.set(grown, { from, content, reasoning });
  }
  return grown;
}

/**
 * The content and reasoning added to `earlier` to make `draft`, found from the recorded steps
 * between them without reading either text; undefined when `draft` is not known to have grown
 * from `earlier` by additions alone (or is too short to be tracked). `earlier` is taken as
 * stored: the steps before it are forgotten.
 */
export function textAddedSince(
  draft: DraftMessage,
  earlier: DraftMessage,
): { content: string; reasoning: string } | undefined {
  const content: string[] = [];
  const reasoning: string[] = [];
  for (let at = draft; at !== earlier;) {
    const step = growth.get(at);
    if (step?.from === undefined) return undefined;
    content.push(step.content);
    reasoning.push(step.reasoning);
    at = step.from;
  }
  const behind = growth.get(earlier);
  if (behind) behind.from = undefined;
  return { content: content.reverse().join(''), reasoning: reasoning.reverse().join('') };
}
