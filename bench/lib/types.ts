/** What the scenarios share: options, and the shape of what they report. */

export const SCENARIO_NAMES = [
  'stream',
  'burst',
  'run-start',
  'resume',
  'memory',
  'compression',
  'cluster',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface BenchOptions {
  quick: boolean;
  only: ScenarioName[];
  /** Where results go (bench/results). */
  outDir: string;
  /** The built server, dist/main.js. */
  dist: string;
  /** Profile the gateway (`--cpu-prof`) in the largest stream run and report its hot spots. */
  profile: boolean;
  /** Memory scenario: keep the default SESSION_IDLE_MS (5 minutes) instead of 3 s. */
  realEviction: boolean;
}

export interface BenchContext {
  options: BenchOptions;
  log: (message: string) => void;
}

export type CheckStatus = 'PASS' | 'MISS' | 'N/A';

/** One target of the issue, with the figure that answers it. */
export interface Check {
  target: string;
  measured: string;
  status: CheckStatus;
  note?: string;
}

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  note?: string;
}

export interface ScenarioOutcome {
  /** Raw figures, as they go into the JSON. */
  figures: unknown;
  checks: Check[];
  tables: Table[];
  /** Extra files written next to the results (charts, profiles), relative to outDir. */
  files?: string[];
}

export interface ScenarioResult extends Partial<ScenarioOutcome> {
  name: ScenarioName;
  title: string;
  durationS: number;
  error?: string;
}

export interface Scenario {
  name: ScenarioName;
  title: string;
  run(context: BenchContext): Promise<ScenarioOutcome>;
}

export function check(
  target: string,
  measured: string,
  pass: boolean | null,
  note?: string,
): Check {
  return {
    target,
    measured,
    status: pass === null ? 'N/A' : pass ? 'PASS' : 'MISS',
    ...(note ? { note } : {}),
  };
}

/** Formats milliseconds for tables. */
export function ms(value: number | undefined, digits = 2): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(digits)} ms`;
}

/** A difference in milliseconds with its sign: `+2.50 ms`, `−3.80 ms`. */
export function signedMs(value: number | undefined, digits = 2): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return `${value < 0 ? '−' : '+'}${ms(Math.abs(value), digits)}`;
}

export function mb(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes)
    ? '–'
    : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
