import { isTextFormat, type TextFormat } from './text-formats';

/** One tool call of a scenario: `tool.started`, then `tool.completed` after `durationMs`. */
export interface ToolCallScenario {
  readonly name: string;
  readonly preview: string;
  /** Sent as `tool_call_id` when set (the real upstream often omits it). */
  readonly toolCallId?: string;
  /** Sent as `output` on `tool.completed` when set (often absent upstream). */
  readonly output?: string;
  readonly error: boolean;
  /** Time between `tool.started` and `tool.completed`; defaults to the scenario's `intervalMs`. */
  readonly durationMs?: number;
}

/** An `approval.request` after `afterDeltas` deltas; the run waits for `POST …/approval`. */
export interface ApprovalScenario {
  readonly afterDeltas: number;
  readonly requestId: string;
  readonly command: string;
  readonly description: string;
  readonly choices: readonly string[];
}

/** `run.failed` with `error` after `afterDeltas` deltas. */
export interface FailScenario {
  readonly afterDeltas: number;
  readonly error: string;
}

/** Token counts for `run.completed.usage`; missing input/output/total are computed. */
export type UsageScenario = Readonly<Record<string, number>>;

/** Everything that decides how one fake run behaves. Every field has a default. */
export interface Scenario {
  /** A label (preset names joined with `+`, or `custom`). */
  readonly name: string;
  /** Number of plain `message.delta` events. */
  readonly deltas: number;
  /** Text of delta `i`: a template where `{i}` is the index, or (programmatic only) a function. */
  readonly deltaText: string | ((index: number) => string);
  /** Pause between consecutive events. */
  readonly intervalMs: number;
  readonly delayBeforeFirstEventMs: number;
  /** Reasoning text (sent as reasoning.delta, thinking.delta and reasoning.available), or null. */
  readonly reasoning: string | null;
  readonly tools: readonly ToolCallScenario[];
  /** The tool calls happen after this many deltas (clamped to `deltas`). */
  readonly toolsAfterDeltas: number;
  /** `status.message` events at the start of the run. */
  readonly statusMessages: readonly string[];
  /** Text of one extra, last delta sent as a Python-literal content-block array, or null. */
  readonly pythonContentArrayDelta: string | null;
  readonly deltaFormat: TextFormat;
  readonly outputFormat: TextFormat;
  /** `run.completed.output` before formatting; null means the text of all deltas. */
  readonly finalOutput: string | null;
  readonly usage: UsageScenario;
  readonly fail: FailScenario | null;
  /** Destroy the event stream's socket after this many deltas (no terminal event); the run goes on. */
  readonly dropStreamAfter: number | null;
  /** When the stream is dropped, the run is forgotten too (404 on status, stop, …). */
  readonly forgetRunAfterDrop: boolean;
  /** Non-JSON (or non-event) `data:` frames interleaved with the deltas. */
  readonly garbageLines: number;
  /** Answer `POST /v1/runs` with this status (400–599) and start nothing. */
  readonly createStatus: number | null;
  /** Delay before `POST /v1/runs` is answered. */
  readonly createDelayMs: number;
  /** Answer `POST /v1/runs` 202 without `run_id` and start nothing. */
  readonly missingRunId: boolean;
  readonly approval: ApprovalScenario | null;
  /** `/stop` answers `stopping` but the run goes on to its natural end. */
  readonly ignoreStop: boolean;
  /** Time between `/stop` and `run.cancelled`. */
  readonly stopDelayMs: number;
}

export interface ToolCallInput {
  name: string;
  preview?: string;
  toolCallId?: string;
  output?: string;
  error?: boolean;
  durationMs?: number;
}

/**
 * A partial scenario with shorthands; layers of these are merged over the defaults by
 * {@link resolveScenario}. Untrusted JSON becomes one through {@link parseScenarioJson}.
 */
export interface ScenarioInput {
  /** Presets applied (in order) before the other fields of this layer. */
  preset?: string | readonly string[];
  name?: string;
  deltas?: number;
  deltaText?: string | ((index: number) => string);
  intervalMs?: number;
  delayBeforeFirstEventMs?: number;
  /** `true` = a default reasoning text. */
  reasoning?: boolean | string | null;
  /** A number = that many generated tool calls. */
  tools?: number | readonly ToolCallInput[];
  toolsAfterDeltas?: number;
  /** A number = that many generated messages. */
  statusMessages?: number | readonly string[];
  /** `true` = the text `hi`. */
  pythonContentArrayDelta?: boolean | string | null;
  deltaFormat?: TextFormat;
  outputFormat?: TextFormat;
  /** Shorthand for `outputFormat: 'double-json-array'`. */
  doubleSerialisedOutput?: boolean;
  finalOutput?: string | null;
  usage?: UsageScenario;
  /** `true` = after 1 delta; a number = after that many deltas; a string = the error text. */
  fail?: boolean | number | string | Partial<FailScenario> | null;
  dropStreamAfter?: number | null;
  forgetRunAfterDrop?: boolean;
  /** `true` = 3. */
  garbageLines?: number | boolean;
  createStatus?: number | null;
  createDelayMs?: number;
  missingRunId?: boolean;
  /** `true` = after 1 delta; a number = after that many deltas. */
  approval?: boolean | number | Partial<ApprovalScenario> | null;
  ignoreStop?: boolean;
  stopDelayMs?: number;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

export const DEFAULT_SCENARIO: Scenario = Object.freeze({
  name: 'default',
  deltas: 5,
  deltaText: 'tok{i} ',
  intervalMs: 10,
  delayBeforeFirstEventMs: 0,
  reasoning: null,
  tools: [],
  toolsAfterDeltas: 0,
  statusMessages: [],
  pythonContentArrayDelta: null,
  deltaFormat: 'text',
  outputFormat: 'text',
  finalOutput: null,
  usage: {},
  fail: null,
  dropStreamAfter: null,
  forgetRunAfterDrop: false,
  garbageLines: 0,
  createStatus: null,
  createDelayMs: 0,
  missingRunId: false,
  approval: null,
  ignoreStop: false,
  stopDelayMs: 0,
});

const DEFAULT_REASONING = 'Let me think about this. The user wants an answer.';
const DEFAULT_FAIL_ERROR = 'fake-hermes: scenario failure';
const DEFAULT_APPROVAL: ApprovalScenario = {
  afterDeltas: 1,
  requestId: 'appr_fake_1',
  command: 'rm -rf /tmp/fake-hermes-scratch',
  description: 'delete a scratch directory',
  choices: ['once', 'session', 'always', 'deny'],
};

/** Named scenarios, usable by name wherever a scenario is chosen. */
export const PRESETS: Readonly<Record<string, ScenarioInput>> = {
  default: {},
  plain: {},
  empty: { deltas: 0 },
  tools: { tools: 2 },
  'tool-error': {
    tools: [
      { name: 'terminal', preview: 'exit 1', toolCallId: 'call_err', output: 'boom', error: true },
    ],
  },
  reasoning: { reasoning: true },
  status: { statusMessages: 2 },
  python: { pythonContentArrayDelta: true },
  'json-array': { deltaFormat: 'json-array', outputFormat: 'json-array' },
  'double-output': { doubleSerialisedOutput: true },
  usage: {
    usage: {
      input_tokens: 1200,
      output_tokens: 345,
      total_tokens: 1545,
      cache_read_tokens: 800,
      cache_write_tokens: 100,
      reasoning_tokens: 42,
    },
  },
  fail: { fail: { afterDeltas: 2, error: 'fake-hermes: model provider error' } },
  drop: { dropStreamAfter: 2 },
  'drop-forget': { dropStreamAfter: 2, forgetRunAfterDrop: true },
  garbage: { garbageLines: 3 },
  'create-400': { createStatus: 400 },
  'create-401': { createStatus: 401 },
  'create-429': { createStatus: 429 },
  'create-500': { createStatus: 500 },
  'create-503': { createStatus: 503 },
  'no-run-id': { missingRunId: true },
  approval: { approval: true },
  slow: { deltas: 10, intervalMs: 1000 },
  'ignore-stop': { ignoreStop: true },
  long: { deltas: 200, intervalMs: 20 },
  full: { statusMessages: 1, reasoning: true, tools: 2, pythonContentArrayDelta: true },
};

// ---------------------------------------------------------------------------------------------
// Resolution: layers of ScenarioInput over the defaults
// ---------------------------------------------------------------------------------------------

/** Merges layers (later wins) over {@link DEFAULT_SCENARIO}. A string layer is a spec string. */
export function resolveScenario(
  ...layers: ReadonlyArray<ScenarioInput | string | undefined>
): Scenario {
  let scenario: Scenario = DEFAULT_SCENARIO;
  const names: string[] = [];
  for (const layer of layers) {
    if (layer === undefined) continue;
    const input = typeof layer === 'string' ? parseScenarioSpec(layer) : layer;
    scenario = applyLayer(scenario, input, names);
  }
  return {
    ...scenario,
    name: scenario.name === 'default' && names.length ? names.join('+') : scenario.name,
  };
}

function applyLayer(base: Scenario, layer: ScenarioInput, names: string[]): Scenario {
  let s: Scenario = base;
  for (const preset of asList(layer.preset)) {
    const found = PRESETS[preset];
    if (!found) throw new ScenarioError(`unknown scenario preset "${preset}"`);
    names.push(preset);
    s = applyLayer(s, found, names);
  }
  const next: { -readonly [K in keyof Scenario]: Scenario[K] } = { ...s };
  if (layer.name !== undefined) next.name = layer.name;
  if (layer.deltas !== undefined) next.deltas = layer.deltas;
  if (layer.deltaText !== undefined) next.deltaText = layer.deltaText;
  if (layer.intervalMs !== undefined) next.intervalMs = layer.intervalMs;
  if (layer.delayBeforeFirstEventMs !== undefined) {
    next.delayBeforeFirstEventMs = layer.delayBeforeFirstEventMs;
  }
  if (layer.reasoning !== undefined) next.reasoning = pickText(layer.reasoning, DEFAULT_REASONING);
  if (layer.tools !== undefined) next.tools = normaliseTools(layer.tools);
  if (layer.toolsAfterDeltas !== undefined) next.toolsAfterDeltas = layer.toolsAfterDeltas;
  if (layer.statusMessages !== undefined) {
    next.statusMessages =
      typeof layer.statusMessages === 'number'
        ? Array.from({ length: layer.statusMessages }, (_, i) => `fake-hermes status ${i + 1}`)
        : [...layer.statusMessages];
  }
  if (layer.pythonContentArrayDelta !== undefined) {
    next.pythonContentArrayDelta = pickText(layer.pythonContentArrayDelta, 'hi');
  }
  if (layer.deltaFormat !== undefined) next.deltaFormat = layer.deltaFormat;
  if (layer.outputFormat !== undefined) next.outputFormat = layer.outputFormat;
  if (layer.doubleSerialisedOutput === true) next.outputFormat = 'double-json-array';
  if (layer.finalOutput !== undefined) next.finalOutput = layer.finalOutput;
  if (layer.usage !== undefined) next.usage = { ...layer.usage };
  if (layer.fail !== undefined) next.fail = normaliseFail(layer.fail, s.fail);
  if (layer.dropStreamAfter !== undefined) next.dropStreamAfter = layer.dropStreamAfter;
  if (layer.forgetRunAfterDrop !== undefined) next.forgetRunAfterDrop = layer.forgetRunAfterDrop;
  if (layer.garbageLines !== undefined) {
    next.garbageLines =
      layer.garbageLines === true ? 3 : layer.garbageLines === false ? 0 : layer.garbageLines;
  }
  if (layer.createStatus !== undefined) next.createStatus = layer.createStatus;
  if (layer.createDelayMs !== undefined) next.createDelayMs = layer.createDelayMs;
  if (layer.missingRunId !== undefined) next.missingRunId = layer.missingRunId;
  if (layer.approval !== undefined) next.approval = normaliseApproval(layer.approval, s.approval);
  if (layer.ignoreStop !== undefined) next.ignoreStop = layer.ignoreStop;
  if (layer.stopDelayMs !== undefined) next.stopDelayMs = layer.stopDelayMs;
  return next;
}

function asList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

function pickText(value: boolean | string | null, fallback: string): string | null {
  if (value === true) return fallback;
  if (value === false || value === null) return null;
  return value;
}

const TOOL_NAMES = ['terminal', 'read_file', 'web_search'];

function normaliseTools(tools: number | readonly ToolCallInput[]): ToolCallScenario[] {
  if (typeof tools === 'number') {
    // Even-indexed calls carry tool_call_id and output; odd ones carry neither (as upstream often does).
    return Array.from({ length: tools }, (_, i) => ({
      name: TOOL_NAMES[i % TOOL_NAMES.length],
      preview: `fake preview ${i}`,
      ...(i % 2 === 0 ? { toolCallId: `call_fake_${i}`, output: `fake output ${i}` } : {}),
      error: false,
    }));
  }
  return tools.map((t) => ({
    name: t.name,
    preview: t.preview ?? '',
    ...(t.toolCallId !== undefined ? { toolCallId: t.toolCallId } : {}),
    ...(t.output !== undefined ? { output: t.output } : {}),
    error: t.error ?? false,
    ...(t.durationMs !== undefined ? { durationMs: t.durationMs } : {}),
  }));
}

function normaliseFail(
  value: NonNullable<ScenarioInput['fail']> | null,
  prev: FailScenario | null,
): FailScenario | null {
  const base = prev ?? { afterDeltas: 1, error: DEFAULT_FAIL_ERROR };
  if (value === null || value === false) return null;
  if (value === true) return base;
  if (typeof value === 'number') return { ...base, afterDeltas: value };
  if (typeof value === 'string') return { ...base, error: value };
  return { ...base, ...value };
}

function normaliseApproval(
  value: NonNullable<ScenarioInput['approval']> | null,
  prev: ApprovalScenario | null,
): ApprovalScenario | null {
  const base = prev ?? DEFAULT_APPROVAL;
  if (value === null || value === false) return null;
  if (value === true) return base;
  if (typeof value === 'number') return { ...base, afterDeltas: value };
  return { ...base, ...value };
}

// ---------------------------------------------------------------------------------------------
// Validation of untrusted JSON
// ---------------------------------------------------------------------------------------------

const MAX_COUNT = 1_000_000;
const MAX_MS = 3_600_000;
const MAX_TEXT = 65_536;
const MAX_LIST = 1_000;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function int(value: unknown, field: string, max: number, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ScenarioError(`${field} must be an integer between ${min} and ${max}`);
  }
  return value;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > MAX_TEXT) {
    throw new ScenarioError(`${field} must be a string of at most ${MAX_TEXT} characters`);
  }
  return value;
}

function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new ScenarioError(`${field} must be a boolean`);
  return value;
}

function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value) || value.length > MAX_LIST) {
    throw new ScenarioError(`${field} must be an array of at most ${MAX_LIST} items`);
  }
  return value;
}

function nullable<T>(value: unknown, parse: (v: unknown) => T): T | null {
  return value === null ? null : parse(value);
}

function oneOf<T>(
  value: unknown,
  field: string,
  parsers: ReadonlyArray<(v: unknown) => T | undefined>,
): T {
  for (const parse of parsers) {
    const result = parse(value);
    if (result !== undefined) return result;
  }
  throw new ScenarioError(`${field} has an invalid value`);
}

function strictKeys(obj: Json, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new ScenarioError(`${field}.${key} is not a known field`);
  }
}

function parseTool(value: unknown, field: string): ToolCallInput {
  if (!isObject(value)) throw new ScenarioError(`${field} must be an object`);
  strictKeys(value, field, [
    'name',
    'preview',
    'toolCallId',
    'tool_call_id',
    'output',
    'error',
    'durationMs',
  ]);
  const id = value.toolCallId ?? value.tool_call_id;
  return {
    name: text(value.name, `${field}.name`),
    ...(value.preview !== undefined ? { preview: text(value.preview, `${field}.preview`) } : {}),
    ...(id !== undefined ? { toolCallId: text(id, `${field}.toolCallId`) } : {}),
    ...(value.output !== undefined ? { output: text(value.output, `${field}.output`) } : {}),
    ...(value.error !== undefined ? { error: bool(value.error, `${field}.error`) } : {}),
    ...(value.durationMs !== undefined
      ? { durationMs: int(value.durationMs, `${field}.durationMs`, MAX_MS) }
      : {}),
  };
}

function parseFail(value: unknown): ScenarioInput['fail'] {
  return oneOf<ScenarioInput['fail']>(value, 'fail', [
    (v) => (v === null || typeof v === 'boolean' ? v : undefined),
    (v) => (typeof v === 'number' ? int(v, 'fail', MAX_COUNT) : undefined),
    (v) => (typeof v === 'string' ? text(v, 'fail') : undefined),
    (v) => {
      if (!isObject(v)) return undefined;
      strictKeys(v, 'fail', ['afterDeltas', 'error']);
      return {
        ...(v.afterDeltas !== undefined
          ? { afterDeltas: int(v.afterDeltas, 'fail.afterDeltas', MAX_COUNT) }
          : {}),
        ...(v.error !== undefined ? { error: text(v.error, 'fail.error') } : {}),
      };
    },
  ]);
}

function parseApproval(value: unknown): ScenarioInput['approval'] {
  return oneOf<ScenarioInput['approval']>(value, 'approval', [
    (v) => (v === null || typeof v === 'boolean' ? v : undefined),
    (v) => (typeof v === 'number' ? int(v, 'approval', MAX_COUNT) : undefined),
    (v) => {
      if (!isObject(v)) return undefined;
      strictKeys(v, 'approval', ['afterDeltas', 'requestId', 'command', 'description', 'choices']);
      const out: { -readonly [K in keyof ApprovalScenario]?: ApprovalScenario[K] } = {};
      if (v.afterDeltas !== undefined)
        out.afterDeltas = int(v.afterDeltas, 'approval.afterDeltas', MAX_COUNT);
      if (v.requestId !== undefined) out.requestId = text(v.requestId, 'approval.requestId');
      if (v.command !== undefined) out.command = text(v.command, 'approval.command');
      if (v.description !== undefined)
        out.description = text(v.description, 'approval.description');
      if (v.choices !== undefined) {
        out.choices = list(v.choices, 'approval.choices').map((c, i) =>
          text(c, `approval.choices[${i}]`),
        );
      }
      return out;
    },
  ]);
}

function parseUsage(value: unknown): UsageScenario {
  if (!isObject(value)) throw new ScenarioError('usage must be an object of token counts');
  const out: Record<string, number> = {};
  const keys = Object.keys(value);
  if (keys.length > 50) throw new ScenarioError('usage has too many fields');
  for (const key of keys) out[key] = int(value[key], `usage.${key}`, Number.MAX_SAFE_INTEGER);
  return out;
}

function parseFormat(value: unknown, field: string): TextFormat {
  if (!isTextFormat(value)) {
    throw new ScenarioError(
      `${field} must be one of text, json-array, python-array, double-json-array`,
    );
  }
  return value;
}

/** Field parsers for untrusted scenario JSON; each returns the validated ScenarioInput value. */
type ScenarioKey = keyof ScenarioInput;
const FIELD_PARSERS: { [K in ScenarioKey]: (v: unknown) => ScenarioInput[K] } = {
  preset: (v) =>
    typeof v === 'string'
      ? text(v, 'preset')
      : list(v, 'preset').map((p, i) => text(p, `preset[${i}]`)),
  name: (v) => text(v, 'name'),
  deltas: (v) => int(v, 'deltas', MAX_COUNT),
  deltaText: (v) => text(v, 'deltaText'),
  intervalMs: (v) => int(v, 'intervalMs', MAX_MS),
  delayBeforeFirstEventMs: (v) => int(v, 'delayBeforeFirstEventMs', MAX_MS),
  reasoning: (v) => (typeof v === 'boolean' ? v : nullable(v, (x) => text(x, 'reasoning'))),
  tools: (v) =>
    typeof v === 'number'
      ? int(v, 'tools', MAX_LIST)
      : list(v, 'tools').map((t, i) => parseTool(t, `tools[${i}]`)),
  toolsAfterDeltas: (v) => int(v, 'toolsAfterDeltas', MAX_COUNT),
  statusMessages: (v) =>
    typeof v === 'number'
      ? int(v, 'statusMessages', MAX_LIST)
      : list(v, 'statusMessages').map((m, i) => text(m, `statusMessages[${i}]`)),
  pythonContentArrayDelta: (v) =>
    typeof v === 'boolean' ? v : nullable(v, (x) => text(x, 'pythonContentArrayDelta')),
  deltaFormat: (v) => parseFormat(v, 'deltaFormat'),
  outputFormat: (v) => parseFormat(v, 'outputFormat'),
  doubleSerialisedOutput: (v) => bool(v, 'doubleSerialisedOutput'),
  finalOutput: (v) => nullable(v, (x) => text(x, 'finalOutput')),
  usage: parseUsage,
  fail: parseFail,
  dropStreamAfter: (v) => nullable(v, (x) => int(x, 'dropStreamAfter', MAX_COUNT)),
  forgetRunAfterDrop: (v) => bool(v, 'forgetRunAfterDrop'),
  garbageLines: (v) => (typeof v === 'boolean' ? v : int(v, 'garbageLines', MAX_COUNT)),
  createStatus: (v) => nullable(v, (x) => int(x, 'createStatus', 599, 400)),
  createDelayMs: (v) => int(v, 'createDelayMs', MAX_MS),
  missingRunId: (v) => bool(v, 'missingRunId'),
  approval: parseApproval,
  ignoreStop: (v) => bool(v, 'ignoreStop'),
  stopDelayMs: (v) => int(v, 'stopDelayMs', MAX_MS),
};

function isScenarioKey(key: string): key is keyof ScenarioInput {
  return Object.prototype.hasOwnProperty.call(FIELD_PARSERS, key);
}

/**
 * Validates untrusted JSON into a ScenarioInput. Unknown fields, wrong types and out-of-range
 * numbers are errors (all of them reported in one ScenarioError).
 */
export function parseScenarioJson(value: unknown): ScenarioInput {
  if (!isObject(value)) throw new ScenarioError('a scenario must be a JSON object');
  const out: ScenarioInput = {};
  const errors: string[] = [];
  for (const [key, raw] of Object.entries(value)) {
    if (!isScenarioKey(key)) {
      errors.push(`unknown scenario field "${key}"`);
      continue;
    }
    try {
      setField(out, key, raw);
    } catch (err: unknown) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  for (const preset of asList(out.preset)) {
    if (!PRESETS[preset]) errors.push(`unknown scenario preset "${preset}"`);
  }
  if (errors.length) throw new ScenarioError(errors.join('; '));
  return out;
}

function setField<K extends keyof ScenarioInput>(out: ScenarioInput, key: K, raw: unknown): void {
  out[key] = FIELD_PARSERS[key](raw);
}

// ---------------------------------------------------------------------------------------------
// The compact spec grammar (header and input directives)
// ---------------------------------------------------------------------------------------------

/** Short keys of the compact grammar; the full ScenarioInput field names are accepted too. */
const KEY_ALIASES: Readonly<Record<string, keyof ScenarioInput>> = {
  n: 'deltas',
  text: 'deltaText',
  interval: 'intervalMs',
  delay: 'delayBeforeFirstEventMs',
  toolsAfter: 'toolsAfterDeltas',
  status: 'statusMessages',
  python: 'pythonContentArrayDelta',
  doubleOutput: 'doubleSerialisedOutput',
  output: 'finalOutput',
  drop: 'dropStreamAfter',
  forget: 'forgetRunAfterDrop',
  garbage: 'garbageLines',
  create: 'createStatus',
  createDelay: 'createDelayMs',
  noRunId: 'missingRunId',
  stopDelay: 'stopDelayMs',
};

function coerce(raw: string): unknown {
  if (/^-?\d+$/.test(raw)) return Number(raw);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  return raw;
}

/**
 * Parses a scenario spec: a JSON object (`{"deltas":3}`), or comma-separated items, each a preset
 * name (`tools`), a flag (`reasoning`), or `key:value` / `key=value` (`deltas:200, interval:20`,
 * `scenario:tools+reasoning`, `fail:2, error:boom`). See README.md.
 */
export function parseScenarioSpec(spec: string): ScenarioInput {
  const trimmed = spec.trim();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new ScenarioError('scenario JSON does not parse');
    }
    return parseScenarioJson(json);
  }
  const obj: Record<string, unknown> = {};
  const presets: string[] = [];
  let failError: string | undefined;
  for (const rawItem of trimmed.split(',')) {
    const item = rawItem.trim();
    if (!item) continue;
    const match = /^([A-Za-z][\w-]*)\s*(?:[:=]\s*(.*))?$/s.exec(item);
    if (!match) throw new ScenarioError(`cannot parse scenario item "${item}"`);
    const key = match[1];
    const value = match[2];
    if (value === undefined && PRESETS[key]) {
      presets.push(key);
    } else if (key === 'scenario' || key === 'preset') {
      presets.push(...(value ?? '').split('+').map((p) => p.trim()));
    } else if (key === 'error') {
      failError = value ?? '';
    } else {
      const field = KEY_ALIASES[key] ?? (isScenarioKey(key) ? key : undefined);
      if (!field) throw new ScenarioError(`unknown scenario key "${key}"`);
      obj[field] = value === undefined ? true : coerce(value);
    }
  }
  if (presets.length) obj.preset = presets;
  if (failError !== undefined) {
    obj.fail =
      typeof obj.fail === 'number'
        ? { afterDeltas: obj.fail, error: failError }
        : { error: failError };
  }
  return parseScenarioJson(obj);
}

/**
 * Finds `[[ … ]]` directives in a run's input text. The body of each is a scenario spec (see
 * {@link parseScenarioSpec}); a JSON body may itself contain `]]`. Any malformed directive throws.
 */
export function extractDirectives(input: string): ScenarioInput[] {
  const found: ScenarioInput[] = [];
  let at = input.indexOf('[[');
  while (at !== -1) {
    if (found.length >= 20) throw new ScenarioError('too many [[…]] directives');
    let start = at + 2;
    while (start < input.length && /\s/.test(input[start])) start++;
    let end: number;
    if (input[start] === '{') {
      const close = matchingBrace(input, start);
      if (close === -1) throw new ScenarioError('unterminated JSON in [[…]] directive');
      end = close + 1;
      while (end < input.length && /\s/.test(input[end])) end++;
      if (!input.startsWith(']]', end))
        throw new ScenarioError('a JSON [[…]] directive must end with ]]');
    } else {
      end = input.indexOf(']]', start);
      if (end === -1) throw new ScenarioError('unterminated [[…]] directive');
    }
    found.push(parseScenarioSpec(input.slice(start, end)));
    at = input.indexOf('[[', end + 2);
  }
  return found;
}

/** Index of the `}` closing the `{` at `open`, skipping JSON strings; -1 if none. */
function matchingBrace(s: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{') {
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}
