import { MemorySeqStore, SessionCursors } from './session-cursors';

describe('SessionCursors', () => {
  it('admits increasing seqs and drops those at or below the last one', () => {
    const cursors = new SessionCursors();
    expect(cursors.last('s')).toBeUndefined();
    expect(cursors.admit('s', 3)).toBe(true);
    expect(cursors.admit('s', 4)).toBe(true);
    expect(cursors.admit('s', 4)).toBe(false);
    expect(cursors.admit('s', 2)).toBe(false);
    expect(cursors.last('s')).toBe(4);
  });

  it('keeps one cursor per session', () => {
    const cursors = new SessionCursors();
    cursors.admit('a', 10);
    expect(cursors.admit('b', 1)).toBe(true);
    expect(cursors.last('a')).toBe(10);
    expect(cursors.last('b')).toBe(1);
  });

  it('moves to a snapshot seq in either direction', () => {
    const cursors = new SessionCursors();
    cursors.admit('s', 9);
    cursors.rebase('s', 4);
    expect(cursors.admit('s', 5)).toBe(true);
    cursors.rebase('s', 20);
    expect(cursors.admit('s', 6)).toBe(false);
  });

  it('reads and writes through the store it is given', () => {
    const store = new MemorySeqStore();
    store.set('s', 7);
    const cursors = new SessionCursors(store);
    expect(cursors.admit('s', 7)).toBe(false);
    expect(cursors.admit('s', 8)).toBe(true);
    expect(store.get('s')).toBe(8);
  });
});
