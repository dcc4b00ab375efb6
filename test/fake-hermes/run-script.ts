import type { Scenario } from './scenario';
import { formatText, pythonContentArray } from './text-formats';

/** One step of a run; `delayMs` is the pause before it (after the previous step). */
export type RunStep =
  | {
      readonly kind: 'event';
      readonly delayMs: number;
      readonly event: string;
      readonly fields: Readonly<Record<string, unknown>>;
    }
  | { readonly kind: 'delta'; readonly delayMs: number; readonly delta: string }
  | { readonly kind: 'garbage'; readonly delayMs: number; readonly raw: string }
  | {
      readonly kind: 'approval';
      readonly delayMs: number;
      readonly fields: Readonly<Record<string, unknown>>;
    }
  | { readonly kind: 'drop'; readonly delayMs: number }
  | { readonly kind: 'fail'; readonly delayMs: number; readonly error: string }
  | { readonly kind: 'complete'; readonly delayMs: number };

export type Usage = Readonly<Record<string, number>>;

export interface RunScript {
  readonly steps: RunStep[];
  /** The text of all deltas, unformatted (what a client should end up showing). */
  readonly expectedText: string;
  /** `run.completed.output` (formatted as the scenario says). */
  readonly output: string;
  readonly usage: Usage;
}

/**
 * Payloads of the garbage `data:` frames, in rotation: not JSON, truncated JSON, and JSON that is
 * not an event object. A client must skip all of them.
 */
export const GARBAGE_PAYLOADS: readonly string[] = [
  'this is not json',
  '{"event":"message.delta","delta":',
  '[1,2,3]',
  '"just a string"',
  '{"no_event_field":true}',
  'null',
];

function deltaTextAt(scenario: Scenario, index: number): string {
  const t = scenario.deltaText;
  return typeof t === 'function' ? t(index) : t.replaceAll('{i}', String(index));
}

/** Turns a scenario into the ordered steps of one run. */
export function buildRunScript(scenario: Scenario, inputChars: number): RunScript {
  const steps: RunStep[] = [];
  const interval = scenario.intervalMs;
  let first = true;
  const delay = (ms = interval): number => {
    if (!first) return ms;
    first = false;
    return scenario.delayBeforeFirstEventMs;
  };

  for (const message of scenario.statusMessages) {
    steps.push({ kind: 'event', delayMs: delay(), event: 'status.message', fields: { message } });
  }
  if (scenario.reasoning !== null) {
    const r = scenario.reasoning;
    const a = Math.floor(r.length / 3);
    const b = Math.floor((2 * r.length) / 3);
    steps.push({
      kind: 'event',
      delayMs: delay(),
      event: 'reasoning.delta',
      fields: { text: r.slice(0, a) },
    });
    steps.push({
      kind: 'event',
      delayMs: delay(),
      event: 'reasoning.delta',
      fields: { text: r.slice(a, b) },
    });
    steps.push({
      kind: 'event',
      delayMs: delay(),
      event: 'thinking.delta',
      fields: { delta: r.slice(b) },
    });
    steps.push({
      kind: 'event',
      delayMs: delay(),
      event: 'reasoning.available',
      fields: { text: r },
    });
  }

  const n = scenario.deltas;
  const clamp = (k: number): number => Math.min(k, n);
  const approvalAt = scenario.approval ? clamp(scenario.approval.afterDeltas) : -1;
  const toolsAt = scenario.tools.length ? clamp(scenario.toolsAfterDeltas) : -1;
  const dropAt = scenario.dropStreamAfter !== null ? clamp(scenario.dropStreamAfter) : -1;
  const failAt = scenario.fail ? clamp(scenario.fail.afterDeltas) : -1;
  const garbageAfter = garbagePositions(scenario.garbageLines, n);
  let garbageIndex = 0;
  let text = '';
  let failed = false;

  const hooksAt = (position: number): void => {
    if (position === approvalAt && scenario.approval) {
      const { requestId, command, description, choices } = scenario.approval;
      steps.push({
        kind: 'approval',
        delayMs: delay(),
        fields: { request_id: requestId, command, description, choices: [...choices] },
      });
    }
    if (position === toolsAt) {
      for (const tool of scenario.tools) {
        steps.push({
          kind: 'event',
          delayMs: delay(),
          event: 'tool.started',
          fields: {
            tool: tool.name,
            preview: tool.preview,
            ...(tool.toolCallId ? { tool_call_id: tool.toolCallId } : {}),
          },
        });
        const durationMs = tool.durationMs ?? interval;
        steps.push({
          kind: 'event',
          delayMs: delay(durationMs),
          event: 'tool.completed',
          fields: {
            tool: tool.name,
            ...(tool.toolCallId ? { tool_call_id: tool.toolCallId } : {}),
            duration: Math.round(durationMs) / 1000,
            error: tool.error,
            ...(tool.output !== undefined ? { output: tool.output } : {}),
          },
        });
      }
    }
    if (position === dropAt) steps.push({ kind: 'drop', delayMs: 0 });
    if (position === failAt && scenario.fail) {
      steps.push({ kind: 'fail', delayMs: delay(), error: scenario.fail.error });
      failed = true;
    }
  };

  const pushGarbage = (position: number): void => {
    while (garbageIndex < garbageAfter.length && garbageAfter[garbageIndex] === position) {
      steps.push({
        kind: 'garbage',
        delayMs: 0,
        raw: GARBAGE_PAYLOADS[garbageIndex % GARBAGE_PAYLOADS.length],
      });
      garbageIndex++;
    }
  };

  pushGarbage(0);
  for (let i = 0; i < n; i++) {
    hooksAt(i);
    if (failed) break;
    const piece = deltaTextAt(scenario, i);
    text += piece;
    steps.push({ kind: 'delta', delayMs: delay(), delta: formatText(piece, scenario.deltaFormat) });
    pushGarbage(i + 1);
  }
  if (!failed) hooksAt(n);
  if (scenario.pythonContentArrayDelta !== null) {
    text += scenario.pythonContentArrayDelta;
    if (!failed) {
      steps.push({
        kind: 'delta',
        delayMs: delay(),
        delta: pythonContentArray(scenario.pythonContentArrayDelta),
      });
    }
  }
  if (!failed) steps.push({ kind: 'complete', delayMs: delay() });

  const output = formatText(scenario.finalOutput ?? text, scenario.outputFormat);
  return { steps, expectedText: text, output, usage: computeUsage(scenario, inputChars) };
}

/** After which delta count each garbage frame goes, spread evenly. */
function garbagePositions(count: number, deltas: number): number[] {
  return Array.from({ length: count }, (_, j) => Math.floor(((j + 1) * deltas) / (count + 1)));
}

function computeUsage(scenario: Scenario, inputChars: number): Usage {
  const given = scenario.usage;
  const input = given.input_tokens ?? Math.max(1, Math.ceil(inputChars / 4));
  const output =
    given.output_tokens ?? scenario.deltas + (scenario.pythonContentArrayDelta !== null ? 1 : 0);
  return {
    ...given,
    input_tokens: input,
    output_tokens: output,
    total_tokens: given.total_tokens ?? input + output,
  };
}
