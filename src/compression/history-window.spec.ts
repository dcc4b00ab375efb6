import type { HistoryMessage } from '../sessions/session.types';
import { toConversationHistory } from '../content/conversation-history';
import { HISTORY_PAGE, HistoryWindow, type HistoryLoader } from './history-window';

/** A stored transcript of messages 1…n and a loader over it that records every read. */
function store(n: number) {
  const rows: HistoryMessage[] = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `m${i + 1}`,
    toolCalls: null,
    toolCallId: null,
    toolName: null,
    tokenCount: 1,
  }));
  const reads: [number, number][] = [];
  const load: HistoryLoader = (afterId, throughId, limit) => {
    reads.push([afterId, throughId]);
    return Promise.resolve(
      rows.filter((row) => row.id > afterId && row.id <= throughId).slice(0, limit),
    );
  };
  return { rows, reads, load };
}

const ids = (rows: readonly HistoryMessage[]) => rows.map((row) => row.id);

describe('HistoryWindow', () => {
  it('reads everything after the boundary once, then only what was stored since', async () => {
    const { reads, load } = store(20);
    const window = new HistoryWindow();

    expect(ids(await window.read(load, 0, 1, 10))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(ids(await window.read(load, 0, 1, 14))).toEqual(
      Array.from({ length: 14 }, (_, i) => i + 1),
    );
    expect(ids(await window.read(load, 0, 1, 14))).toHaveLength(14);
    expect(reads).toEqual([
      [0, 10],
      [10, 14],
    ]);
  });

  it('adds up the stored token counts of what it read, user turns apart, starting over with it', async () => {
    const { rows, load } = store(20);
    rows.forEach((row, i) => (row.tokenCount = i + 1));
    const sum = (from: number, to: number, role: 'user' | 'other') =>
      rows
        .filter(
          (row) => row.id > from && row.id <= to && (row.role === 'user') === (role === 'user'),
        )
        .reduce((total, row) => total + row.tokenCount, 0);
    const window = new HistoryWindow();
    expect(window.tokens).toEqual({ inputTokens: 0, outputTokens: 0 });
    await window.read(load, 0, 1, 10);
    await window.read(load, 0, 1, 15);
    expect(window.tokens).toEqual({
      inputTokens: sum(0, 15, 'user'),
      outputTokens: sum(0, 15, 'other'),
    });
    // A moved boundary: only what lies after it counts.
    await window.read(load, 6, 1, 15);
    expect(window.tokens).toEqual({
      inputTokens: sum(6, 15, 'user'),
      outputTokens: sum(6, 15, 'other'),
    });
    window.startFresh(2, [rows[0]]);
    expect(window.tokens).toEqual({ inputTokens: 1, outputTokens: 0 });
    window.reset();
    expect(window.tokens).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it('reads a long history page by page, encoding each page as it comes', async () => {
    const n = 2 * HISTORY_PAGE + 7;
    const { rows, reads, load } = store(n + 5);
    const window = new HistoryWindow();
    const encode = jest.spyOn(window.encoder, 'encode');
    expect(ids(await window.read(load, 0, 1, n))).toEqual(ids(rows.slice(0, n)));
    expect(reads).toEqual([
      [0, n],
      [HISTORY_PAGE, n],
      [2 * HISTORY_PAGE, n],
    ]);
    // Between reads, everything read so far but its last message (maybe the run's input).
    expect(encode.mock.calls.map(([messages]) => messages.length)).toEqual([
      HISTORY_PAGE - 1,
      2 * HISTORY_PAGE - 1,
    ]);
    // What the run then asks for is the same history, only its remainder encoded now.
    const earlier = rows.slice(0, n - 1);
    expect(window.encoder.encode(earlier).turns()).toEqual(toConversationHistory(earlier));
    // A history of exactly whole pages ends without reading an empty one.
    const exact = store(HISTORY_PAGE);
    await new HistoryWindow().read(exact.load, 0, 1, HISTORY_PAGE);
    expect(exact.reads).toEqual([[0, HISTORY_PAGE]]);
  });

  it('starts over when it is reset while it waits for a page', async () => {
    const n = 2 * HISTORY_PAGE + 3;
    const { rows, reads, load } = store(n);
    const window = new HistoryWindow();
    const resetting: typeof load = async (afterId, throughId, limit) => {
      const page = await load(afterId, throughId, limit);
      // The session reloaded by a resume while the second page was being read.
      if (reads.length === 2) window.reset();
      return page;
    };
    expect(ids(await window.read(resetting, 0, 1, n))).toEqual(ids(rows));
    expect(window.tokens.inputTokens + window.tokens.outputTokens).toBe(n);
    expect(reads.slice(2)).toEqual([
      [0, n],
      [HISTORY_PAGE, n],
      [2 * HISTORY_PAGE, n],
    ]);
  });

  it('starts over from the store when the snapshot boundary moves', async () => {
    const { reads, load } = store(20);
    const window = new HistoryWindow();
    await window.read(load, 0, 1, 10);

    expect(ids(await window.read(load, 8, 1, 12))).toEqual([9, 10, 11, 12]);
    expect(reads.at(-1)).toEqual([8, 12]);
  });

  it('starts over for another incarnation of the session (deleted and created again)', async () => {
    const { reads, load } = store(20);
    const window = new HistoryWindow();
    await window.read(load, 0, 1, 10);

    expect(ids(await window.read(load, 0, 2, 12))).toHaveLength(12);
    expect(reads.at(-1)).toEqual([0, 12]);
  });

  it('starts over when asked for less than it holds, and after reset()', async () => {
    const { reads, load } = store(20);
    const window = new HistoryWindow();
    await window.read(load, 0, 1, 10);

    expect(ids(await window.read(load, 0, 1, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reads.at(-1)).toEqual([0, 6]);
    window.reset();
    expect(ids(await window.read(load, 0, 1, 6))).toHaveLength(6);
    expect(reads.at(-1)).toEqual([0, 6]);
    expect(reads).toHaveLength(3);
  });
});
