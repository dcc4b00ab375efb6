import { assembleReplay, LoggedEvent, parseBatch } from './logged-event';

const event = (seq: number): LoggedEvent => ({ event: 'message.delta', session_id: 's', seq });
const events = (...seqs: number[]): LoggedEvent[] => seqs.map(event);
const seqsOf = (list: readonly LoggedEvent[]): number[] => list.map((e) => e.seq);

describe('assembleReplay', () => {
  it('merges overlapping sources in seq order, each event once', () => {
    const stored = events(1, 2, 3, 4);
    const committed = events(4, 5, 6);
    const pending = events(7, 8);
    const { complete, events: out } = assembleReplay(2, 8, 0, [stored, committed, [], pending]);
    expect(complete).toBe(true);
    expect(seqsOf(out)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(out[1]).toBe(stored[3]);
  });

  it('is incomplete, with no events, when a seq is missing', () => {
    expect(assembleReplay(0, 5, 0, [events(1, 2), events(4, 5)])).toEqual({
      complete: false,
      events: [],
    });
  });

  it('is incomplete below the floor even when the events are there', () => {
    expect(assembleReplay(1, 3, 2, [events(1, 2, 3)]).complete).toBe(false);
    expect(seqsOf(assembleReplay(2, 3, 2, [events(1, 2, 3)]).events)).toEqual([3]);
  });

  it('treats a cursor at the latest seq as complete and one above it as foreign', () => {
    expect(assembleReplay(3, 3, 0, [])).toEqual({ complete: true, events: [] });
    expect(assembleReplay(4, 3, 0, [])).toEqual({ complete: false, events: [] });
    expect(assembleReplay(-1, 3, 0, [events(1, 2, 3)]).complete).toBe(false);
    expect(assembleReplay(0.5, 3, 0, [events(1, 2, 3)]).complete).toBe(false);
  });

  it('does not allocate for a far-off cursor it cannot fill', () => {
    expect(assembleReplay(0, 1e12, 0, [events(1)]).complete).toBe(false);
  });
});

describe('parseBatch', () => {
  it('keeps well-formed events only', () => {
    const json = JSON.stringify([event(1), { event: 'x', seq: 'two' }, null, { ...event(3) }]);
    expect(seqsOf(parseBatch(json))).toEqual([1, 3]);
    expect(parseBatch('{"not":"an array"}')).toEqual([]);
  });
});
