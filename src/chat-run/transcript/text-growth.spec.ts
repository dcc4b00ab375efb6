import { EMPTY_ASSISTANT, type DraftMessage } from './run-transcript';
import { grew, textAddedSince, TRACKED_FROM_CHARS } from './text-growth';

/** A draft long enough for its growth to be tracked. */
const LONG: DraftMessage = { ...EMPTY_ASSISTANT, content: 'x'.repeat(TRACKED_FROM_CHARS) };

const append = (draft: DraftMessage, content: string, reasoning = ''): DraftMessage =>
  grew(
    draft,
    {
      ...draft,
      content: draft.content + content,
      reasoning: reasoning ? (draft.reasoning ?? '') + reasoning : draft.reasoning,
    },
    content,
    reasoning,
  );

describe('text growth of drafts', () => {
  it('gives what was added between two versions, in order', () => {
    const v1 = append(LONG, 'Hello');
    const v2 = append(v1, ', wor', 'think');
    const v3 = append(v2, 'ld', 'ing');
    expect(textAddedSince(v3, v1)).toEqual({ content: ', world', reasoning: 'thinking' });
    expect(textAddedSince(v3, v3)).toEqual({ content: '', reasoning: '' });
  });

  it('tracks no draft shorter than the threshold (those are read whole)', () => {
    const short = append(EMPTY_ASSISTANT, 'Hello');
    expect(textAddedSince(append(short, ' there'), short)).toBeUndefined();
    // The step that makes a draft long is the first one tracked.
    const almost: DraftMessage = {
      ...EMPTY_ASSISTANT,
      content: 'x'.repeat(TRACKED_FROM_CHARS - 1),
    };
    expect(textAddedSince(append(almost, 'yz'), almost)).toEqual({ content: 'yz', reasoning: '' });
  });

  it('knows nothing of a version that did not grow from the stored one by additions', () => {
    const v1 = append(LONG, 'a');
    const replaced: DraftMessage = { ...v1, content: 'other' };
    const v2 = append(replaced, 'b');
    expect(textAddedSince(v2, v1)).toBeUndefined();
    // A version from another lineage altogether.
    expect(textAddedSince(append(LONG, 'x'), v1)).toBeUndefined();
  });

  it('forgets the steps before a stored version, and still answers from it', () => {
    const v1 = append(LONG, 'one');
    const v2 = append(v1, ' two');
    const v3 = append(v2, ' three');
    expect(textAddedSince(v2, v1)?.content).toBe(' two');
    // v2 stored now: asking from v2 cuts what lies behind it.
    expect(textAddedSince(v3, v2)?.content).toBe(' three');
    expect(textAddedSince(v3, v1)).toBeUndefined();
    // The same question again (a write that rolled back is planned again) gets the same answer.
    expect(textAddedSince(v3, v2)?.content).toBe(' three');
  });
});
