import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './processes';
import type { Table } from './types';

/** One function's share of the profiled process's busy time. */
export interface HotSpot {
  functionName: string;
  location: string;
  ms: number;
  percent: number;
}

/** Where a profiled process spent its busy time, in two views. */
export interface ProfileSummary {
  busyMs: number;
  /** Time in the function itself (leaf frames), any code. */
  self: HotSpot[];
  /** Time in the function and everything it called, the server's own code only (`dist/`). */
  inclusive: HotSpot[];
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Milliseconds after the profiled process started: only samples in this window count. */
export interface ProfileWindow {
  fromMs: number;
  toMs: number;
}

/** Node flags that write a V8 CPU profile into `dir` when the process exits. */
export function profileArgs(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

function shortLocation(url: string, line: number): string {
  if (!url) return '(native)';
  const path = url.replace(/^file:\/\//, '').replace(`${REPO_ROOT}/`, '');
  const trimmed = path.includes('node_modules/')
    ? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)
    : path;
  return `${trimmed}:${line + 1}`;
}

function isServerCode(url: string): boolean {
  return url.includes('/dist/') && !url.includes('node_modules');
}

function top(
  totals: Map<string, { name: string; location: string; us: number }>,
  busyUs: number,
  limit: number,
): HotSpot[] {
  return [...totals.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map((e) => ({
      functionName: e.name,
      location: e.location,
      ms: Math.round(e.us / 1000),
      percent: busyUs > 0 ? (100 * e.us) / busyUs : 0,
    }));
}

/**
 * Reads the newest `.cpuprofile` in `dir`. With a window, startup and shutdown are left out (the
 * profile starts with the process, so its clock is taken as the process's age). Idle time is
 * not busy time.
 */
export function summariseProfile(dir: string, window?: ProfileWindow, limit = 15): ProfileSummary {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) return { busyMs: 0, self: [], inclusive: [] };
  const profile = JSON.parse(readFileSync(files[0], 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  const self = new Map<string, { name: string; location: string; us: number }>();
  const inclusive = new Map<string, { name: string; location: string; us: number }>();
  const add = (totals: typeof self, frame: CpuProfileNode['callFrame'], us: number): string => {
    const name = frame.functionName || '(anonymous)';
    const location = shortLocation(frame.url, frame.lineNumber);
    const key = `${name}@${location}`;
    const entry = totals.get(key) ?? { name, location, us: 0 };
    entry.us += us;
    totals.set(key, entry);
    return key;
  };
  let busyUs = 0;
  let clockUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    clockUs += delta;
    const atMs = clockUs / 1000;
    if (window && (atMs < window.fromMs || atMs > window.toMs)) return;
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    busyUs += delta;
    add(self, node.callFrame, delta);
    // Each server function on the stack once, however deep the recursion.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (!isServerCode(frame.url)) continue;
      const key = `${frame.functionName}@${frame.url}:${frame.lineNumber}`;
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, frame, delta);
    }
  });
  return {
    busyMs: Math.round(busyUs / 1000),
    self: top(self, busyUs, limit),
    inclusive: top(inclusive, busyUs, limit),
  };
}

/** The profile as two report tables: self time (any code), inclusive time (server code). */
export function profileTables(what: string, summary: ProfileSummary): Table[] {
  const rows = (spots: HotSpot[]) =>
    spots.map((h) => [h.functionName, h.location, h.ms, h.percent.toFixed(1)]);
  return [
    {
      title: `Gateway CPU profile, ${what}: self time`,
      columns: ['function', 'location', 'self ms', '% of busy'],
      rows: rows(summary.self),
      note:
        `${summary.busyMs} ms busy in the measured window (V8 CPU profile, \`--profile\`). ` +
        '"(program)" is V8 and native work outside JavaScript functions; a native call (a syscall, ' +
        'SQLite preparing a statement) counts as self time of the JavaScript function that made it.',
    },
    {
      title: `Gateway CPU profile, ${what}: the server's own functions, including what they call`,
      columns: ['function', 'location', 'inclusive ms', '% of busy'],
      rows: rows(summary.inclusive),
    },
  ];
}
