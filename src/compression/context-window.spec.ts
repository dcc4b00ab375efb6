import type { CompressionSettings } from '../config/app-config';
import type { HistoryMessage, MessageRole } from '../sessions/session.types';
import { budgetFor, chunksOf, estimateOf, tailStart, totalOf } from './context-window';

const sumTokens = (messages: readonly Pick<HistoryMessage, 'tokenCount'>[]): number =>
  messages.reduce((total, message) => total + message.tokenCount, 0);

interface Turn {
  id: number;
  role: MessageRole;
  tokenCount: number;
}

/** A transcript from `[role, tokens]` pairs, with ids 1, 2, … so that results can be named. */
function transcript(...turns: [MessageRole, number][]): Turn[] {
  return turns.map(([role, tokenCount], index) => ({ id: index + 1, role, tokenCount }));
}

const ids = (turns: readonly Turn[]): number[] => turns.map((turn) => turn.id);

const settings = (
  threshold: number,
  tailFraction: number,
  summaryFraction: number,
): CompressionSettings => ({ threshold, tailFraction, summaryFraction, timeoutMs: 1000 });

/** Seeded linear congruential generator (Numerical Recipes constants): same runs every time. */
function lcg(seed: number): { int: (below: number) => number; chance: (p: number) => boolean } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return {
    int: (below) => Math.floor(next() * below),
    chance: (p) => next() < p,
  };
}

describe('budgetFor', () => {
  it('takes the trigger as the floor of context length × threshold, the rest as its shares', () => {
    expect(budgetFor(10_001, settings(0.75, 0.3, 0.15))).toEqual({
      trigger: 7500, // 7500.75
      tail: 2250, // 7500 × 0.3
      summary: 1125, // 7500 × 0.15
      chunk: 5750, // floor(10001 × 0.8) − 2 × 1125
    });
  });

  it('gives the default settings their budgets on a 128k window', () => {
    expect(budgetFor(128_000, settings(0.5, 0.25, 0.15))).toEqual({
      trigger: 64_000,
      tail: 16_000,
      summary: 9600,
      chunk: 83_200,
    });
  });

  it('rounds every share down', () => {
    // 1024 × 0.95 = 972.8; 972 × 0.4 = 388.8.
    const budget = budgetFor(1024, settings(0.95, 0.4, 0.25));
    expect(budget.trigger).toBe(972);
    expect(budget.tail).toBe(388);
    expect(budget.summary).toBe(243);
  });

  it('never gives a summary fewer than 16 tokens', () => {
    // 100 × 0.05 = 5 tokens would be too short for any summary.
    const budget = budgetFor(1024, settings(0.1, 0.2, 0.05));
    expect(budget.summary).toBe(16);
    expect(budget.chunk).toBe(Math.floor(1024 * 0.8) - 2 * 16);
  });

  it('keeps the hysteresis with the smallest trigger the configuration allows', () => {
    // HERMES_CONTEXT_LENGTH=1024 and COMPRESSION_THRESHOLD=0.05: a 51-token trigger.
    const budget = budgetFor(1024, settings(0.05, 0.4, 0.25));
    expect(budget.trigger).toBe(51);
    expect(budget.tail + budget.summary).toBeLessThan(budget.trigger);
  });

  it('never gives a summariser chunk fewer than 256 tokens', () => {
    // floor(300 × 0.8) − 2 × 64 = 112.
    expect(budgetFor(300, settings(0.5, 0.25, 0.15)).chunk).toBe(256);
  });

  it('leaves a fifth of the window beside the chunk and two summaries', () => {
    for (const contextLength of [1024, 8192, 32_000, 128_000, 1_000_000]) {
      for (const summaryFraction of [0.02, 0.15, 0.25]) {
        const budget = budgetFor(contextLength, settings(0.95, 0.4, summaryFraction));
        expect(budget.chunk).toBeGreaterThan(256);
        expect(budget.chunk + 2 * budget.summary).toBeLessThanOrEqual(0.8 * contextLength);
      }
    }
  });

  it('keeps tail + summary within 0.65 of the trigger for every allowed share above the floor', () => {
    let checked = 0;
    for (const contextLength of [1024, 8192, 32_000, 128_000, 1_000_000]) {
      for (const threshold of [0.05, 0.5, 0.95]) {
        for (const tailFraction of [0, 0.25, 0.4]) {
          for (const summaryFraction of [0.02, 0.15, 0.25]) {
            const budget = budgetFor(
              contextLength,
              settings(threshold, tailFraction, summaryFraction),
            );
            // The 64-token floor of the summary is outside the proportional guarantee.
            if (budget.trigger * summaryFraction < 64) continue;
            expect(budget.tail + budget.summary).toBeLessThanOrEqual(0.65 * budget.trigger);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});

describe('sumTokens', () => {
  it('adds up the token counts', () => {
    expect(sumTokens([])).toBe(0);
    expect(sumTokens(transcript(['user', 3], ['assistant', 4], ['tool', 5]))).toBe(12);
  });
});

describe('tailStart', () => {
  it('returns 0 for an empty transcript', () => {
    expect(tailStart([], 100)).toBe(0);
  });

  it('keeps the whole transcript when it fits', () => {
    const turns = transcript(['user', 10], ['assistant', 10], ['user', 10], ['assistant', 10]);
    expect(tailStart(turns, 40)).toBe(0);
    expect(tailStart(turns, 1000)).toBe(0);
  });

  it('keeps the newest turns that fit, a message that fits exactly included', () => {
    const turns = transcript(['user', 10], ['assistant', 10], ['user', 10], ['assistant', 10]);
    expect(tailStart(turns, 20)).toBe(2);
    expect(tailStart(turns, 39)).toBe(2);
  });

  it('begins at an assistant turn when no user turn is inside the fitting stretch', () => {
    const turns = transcript(['user', 10], ['assistant', 10], ['user', 10], ['assistant', 10]);
    expect(tailStart(turns, 15)).toBe(3);
  });

  it('prefers the first user turn of the fitting stretch to an earlier assistant turn', () => {
    const turns = transcript(
      ['user', 10],
      ['assistant', 10],
      ['tool', 10],
      ['assistant', 10], // the stretch that fits 40 tokens begins at the tool result before it
      ['user', 10],
      ['assistant', 10],
    );
    expect(tailStart(turns, 40)).toBe(4);
  });

  it('never begins with a tool result: falls back to the first turn that is not one', () => {
    const turns = transcript(
      ['user', 10],
      ['assistant', 10], // calls two tools
      ['tool', 10],
      ['tool', 10],
      ['assistant', 10],
    );
    // 30 tokens would fit both tool results and the answer; their caller does not fit.
    const start = tailStart(turns, 30);
    expect(start).toBe(4);
    expect(turns[start].role).toBe('assistant');
  });

  it('keeps a tool call and its results together when both fit', () => {
    const turns = transcript(
      ['user', 50],
      ['assistant', 10],
      ['tool', 10],
      ['tool', 10],
      ['assistant', 10],
    );
    expect(tailStart(turns, 40)).toBe(1);
  });

  it('returns the length when the fitting stretch holds only tool results', () => {
    const turns = transcript(['user', 10], ['assistant', 100], ['tool', 5], ['tool', 5]);
    expect(tailStart(turns, 10)).toBe(turns.length);
  });

  it('returns the length when the newest message alone is over the budget', () => {
    const turns = transcript(['user', 1], ['assistant', 1], ['user', 1000]);
    // The older turns would fit, but a tail is always the newest stretch.
    expect(tailStart(turns, 100)).toBe(turns.length);
    expect(tailStart(transcript(['user', 1000]), 999)).toBe(1);
  });

  it('returns the length for a zero budget unless the newest messages are empty', () => {
    expect(tailStart(transcript(['user', 1], ['assistant', 1]), 0)).toBe(2);
    expect(tailStart(transcript(['user', 1], ['user', 0], ['assistant', 0]), 0)).toBe(1);
  });
});

describe('chunksOf', () => {
  it('returns no groups for no messages', () => {
    expect(chunksOf([], 100)).toEqual([]);
  });

  it('groups consecutive messages up to the budget, a message that fits exactly included', () => {
    const turns = transcript(
      ['user', 10],
      ['assistant', 10],
      ['user', 10],
      ['assistant', 10],
      ['user', 10],
    );
    expect(chunksOf(turns, 25).map(ids)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunksOf(turns, 20).map(ids)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunksOf(turns, 30).map(ids)).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(chunksOf(turns, 1000).map(ids)).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('puts a message larger than the budget in a group of its own', () => {
    const turns = transcript(['user', 10], ['assistant', 100], ['user', 10], ['assistant', 10]);
    expect(chunksOf(turns, 50).map(ids)).toEqual([[1], [2], [3, 4]]);
    expect(chunksOf(transcript(['assistant', 100], ['user', 10]), 50).map(ids)).toEqual([[1], [2]]);
  });

  it('keeps to the budget even inside a tool exchange (a group must fit the summariser)', () => {
    const turns = transcript(
      ['user', 10],
      ['assistant', 10],
      ['tool', 10],
      ['tool', 10],
      ['user', 10],
    );
    expect(chunksOf(turns, 25).map(ids)).toEqual([[1, 2], [3, 4], [5]]);
    // The helper-found case: large results no longer pile up in their caller's group.
    const big = transcript(['user', 10], ['assistant', 10], ['tool', 500], ['tool', 500]);
    expect(chunksOf(big, 50).map(ids)).toEqual([[1, 2], [3], [4]]);
  });

  it('returns the messages themselves, in order', () => {
    const turns = transcript(['user', 30], ['assistant', 30], ['tool', 30], ['user', 30]);
    const chunks = chunksOf(turns, 40);
    const flat = chunks.flat();
    expect(flat).toHaveLength(turns.length);
    flat.forEach((turn, index) => expect(turn).toBe(turns[index]));
  });
});

describe('estimateOf and totalOf', () => {
  it('counts the summary and user turns as input, assistant and tool turns as output', () => {
    const turns = transcript(['user', 10], ['assistant', 20], ['tool', 30], ['user', 5]);
    const estimate = estimateOf(100, turns);
    expect(estimate).toEqual({ inputTokens: 115, outputTokens: 50 });
    expect(totalOf(estimate)).toBe(165);
  });

  it('is the summary alone for no messages', () => {
    expect(estimateOf(42, [])).toEqual({ inputTokens: 42, outputTokens: 0 });
    expect(estimateOf(0, [])).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it('adds both sides', () => {
    expect(totalOf({ inputTokens: 3, outputTokens: 4 })).toBe(7);
  });
});

describe('context window invariants over random transcripts', () => {
  const random = lcg(0x5eed);

  /** Tool results only ever follow an assistant turn or another tool result. */
  function randomTranscript(): Turn[] {
    const length = random.int(30);
    const turns: Turn[] = [];
    for (let index = 0; index < length; index++) {
      const previous = turns.at(-1)?.role;
      const toolAllowed = previous === 'assistant' || previous === 'tool';
      let role: MessageRole;
      if (toolAllowed && random.chance(0.45)) role = 'tool';
      else role = random.chance(0.5) ? 'user' : 'assistant';
      const tokenCount = random.chance(0.08) ? 150 + random.int(300) : random.int(60);
      turns.push({ id: index + 1, role, tokenCount });
    }
    return turns;
  }

  const cases = Array.from({ length: 2000 }, () => ({
    turns: randomTranscript(),
    budget: random.int(300),
  }));

  it('generates transcripts with tool calls, and budgets of every size', () => {
    const withTools = cases.filter(({ turns }) => turns.some((turn) => turn.role === 'tool'));
    expect(withTools.length).toBeGreaterThan(cases.length / 2);
    expect(cases.some(({ turns, budget }) => sumTokens(turns) <= budget)).toBe(true);
    expect(cases.some(({ turns, budget }) => sumTokens(turns) > budget)).toBe(true);
  });

  /** Each case that breaks a rule, as `case <index>: <rule>` (an empty list passes). */
  function violations(check: (turns: Turn[], budget: number) => string[]): string[] {
    return cases.flatMap(({ turns, budget }, index) =>
      check(turns, budget).map((rule) => `case ${index}: ${rule}`),
    );
  }

  it('tailStart gives a tail within the budget that never splits a tool call', () => {
    let partialTails = 0;
    const broken = violations((turns, budget) => {
      const problems: string[] = [];
      const start = tailStart(turns, budget);
      if (start < 0 || start > turns.length) return [`start ${start} out of range`];
      if (start > 0 && start < turns.length) partialTails++;
      const tail = turns.slice(start);
      if (sumTokens(tail) > budget) problems.push('tail over budget');
      if (tail[0]?.role === 'tool') problems.push('tail begins with a tool result');
      // Every tool result in the tail has its calling assistant turn in the tail too.
      tail.forEach((turn, index) => {
        if (turn.role !== 'tool') return;
        let caller = start + index;
        while (turns[caller].role === 'tool') caller--;
        if (caller < start) problems.push(`tool result ${turn.id} split from its caller`);
      });
      // The tail lies inside the newest stretch that fits and begins at its first user turn,
      // else at its first turn that is not a tool result.
      let fitting = turns.length;
      let used = 0;
      while (fitting > 0 && used + turns[fitting - 1].tokenCount <= budget) {
        fitting--;
        used += turns[fitting].tokenCount;
      }
      if (start < fitting) problems.push('tail reaches past the stretch that fits');
      const stretch = turns.slice(fitting);
      const skipped = turns.slice(fitting, start);
      if (stretch.some((turn) => turn.role === 'user')) {
        if (turns[start]?.role !== 'user' || skipped.some((turn) => turn.role === 'user')) {
          problems.push('tail does not begin at the first user turn that fits');
        }
      } else if (stretch.some((turn) => turn.role !== 'tool')) {
        if (skipped.some((turn) => turn.role !== 'tool')) {
          problems.push('tail skips a turn that is not a tool result');
        }
      } else if (start !== turns.length) {
        problems.push('tail kept although only tool results fit');
      }
      return problems;
    });
    expect(broken).toEqual([]);
    expect(partialTails).toBeGreaterThan(100);
  });

  it('chunksOf covers the input in order, in greedy groups within the budget', () => {
    let multiChunk = 0;
    const broken = violations((turns, budget) => {
      const problems: string[] = [];
      const chunks = chunksOf(turns, budget);
      if (chunks.length > 1) multiChunk++;
      const flat = chunks.flat();
      if (flat.length !== turns.length || flat.some((turn, index) => turn !== turns[index])) {
        problems.push('groups do not concatenate to the input');
      }
      chunks.forEach((chunk, index) => {
        if (chunk.length === 0) {
          problems.push(`group ${index} is empty`);
          return;
        }
        // Only a single message larger than the budget may make a group exceed it.
        if (chunk.length > 1 && sumTokens(chunk) > budget) {
          problems.push(`group ${index} is over the budget`);
        }
        // A new group starts only when its first message would not fit in the previous one.
        if (index > 0 && sumTokens(chunks[index - 1]) + chunk[0].tokenCount <= budget) {
          problems.push(`group ${index} could have joined the previous one`);
        }
      });
      return problems;
    });
    expect(broken).toEqual([]);
    expect(multiChunk).toBeGreaterThan(100);
  });
});
