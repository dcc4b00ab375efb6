import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { StreamPoint } from '../scenarios/stream';
import type { MachineInfo } from './machine';
import { REPO_ROOT } from './processes';
import { renderChart, type Panel } from './svg';
import { SCENARIO_NAMES, type BenchOptions, type ScenarioResult, type Table } from './types';

export interface BenchRun {
  options: BenchOptions;
  machine: MachineInfo;
  startedAt: Date;
  results: ScenarioResult[];
}

const README = join(REPO_ROOT, 'bench', 'README.md');
const LATEST_START = '<!-- bench:latest:start -->';
const LATEST_END = '<!-- bench:latest:end -->';

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function markdownTable(table: Table): string {
  const lines = [
    `**${table.title}**`,
    '',
    `| ${table.columns.join(' | ')} |`,
    `|${table.columns.map(() => '---').join('|')}|`,
    ...table.rows.map(
      (row) => `| ${row.map((cell) => String(cell).replace(/\|/g, '\\|')).join(' | ')} |`,
    ),
  ];
  if (table.note) lines.push('', table.note);
  return lines.join('\n');
}

/** How to repeat this run. */
function commandLine(options: BenchOptions): string {
  const args = [
    ...(options.quick ? ['--quick'] : []),
    ...(options.only.length < SCENARIO_NAMES.length ? ['--only', options.only.join(',')] : []),
    ...(options.profile ? ['--profile'] : []),
    ...(options.realEviction ? ['--real-eviction'] : []),
  ];
  return args.length ? `npm run bench -- ${args.join(' ')}` : 'npm run bench';
}

function machineLine(machine: MachineInfo): string {
  const built = machine.server === 'dist/main.js';
  return (
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.totalMemoryGb} GB RAM, ${machine.os}, ` +
    `Node ${machine.node}; ` +
    (built
      ? `server built from commit ${machine.gitCommit ?? 'unknown'}` +
        (machine.gitDirtySrc ? ' with uncommitted changes in src/' : '')
      : `server ${machine.server} (repository at commit ${machine.gitCommit ?? 'unknown'})`)
  );
}

function targetsTable(results: ScenarioResult[]): string {
  const rows = results.flatMap((r) =>
    (r.checks ?? []).map(
      (c) => `| ${r.name} | ${c.target} | ${c.measured} | **${c.status}** | ${c.note ?? ''} |`,
    ),
  );
  return [
    '| scenario | target | measured | result | note |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The markdown summary: machine, targets with PASS/MISS, then every scenario's tables. */
export function summaryMarkdown(run: BenchRun, chartFile: string | null): string {
  const { options, machine, startedAt, results } = run;
  const total = results.reduce((sum, r) => sum + r.durationS, 0);
  const parts = [
    `# Benchmark results, ${isoDate(startedAt)}${options.quick ? ' (quick sizes)' : ''}`,
    '',
    `Machine: ${machineLine(machine)}.`,
    '',
    `Command: \`${commandLine(options)}\`, ` +
      `started ${startedAt.toISOString()}, ${Math.round(total)} s in all.`,
    '',
    '## Targets',
    '',
    targetsTable(results),
  ];
  if (chartFile) parts.push('', `![stream: latency and CPU against load](${chartFile})`);
  for (const result of results) {
    parts.push('', `## ${result.name}: ${result.title}`, '');
    if (result.error) {
      parts.push('The scenario failed:', '', '```', result.error, '```');
      continue;
    }
    for (const table of result.tables ?? []) parts.push(markdownTable(table), '');
    parts.push(`(${Math.round(result.durationS)} s)`);
  }
  return `${parts.join('\n')}\n`;
}

/** Latency and CPU against load, gateway vs floor, from the stream scenario. */
export function streamChart(points: StreamPoint[], subtitle: string): string | null {
  const single = points.filter((p) => p.clientsPerSession === 1);
  const sessions = [...new Set(single.map((p) => p.sessions))].sort((a, b) => a - b);
  if (sessions.length === 0) return null;
  const multi = points.filter((p) => p.clientsPerSession > 1);
  const clients = multi[0]?.clientsPerSession ?? 3;
  const pick = (mode: string, perSession: number, f: (p: StreamPoint) => number | null) =>
    sessions.map((s) => {
      const p = points.find(
        (q) => q.mode === mode && q.sessions === s && q.clientsPerSession === perSession,
      );
      return p ? f(p) : null;
    });
  const latency: Panel = {
    title: 'Relay latency (sent_at → client receipt)',
    xLabel: 'concurrent sessions streaming',
    yLabel: 'ms',
    xValues: sessions,
    logY: true,
    guides: [
      { y: 10, label: 'p99 target at 200 sessions: 10 ms' },
      { y: 50, label: 'p99 target at 500 sessions: 50 ms' },
    ],
    series: [
      { name: 'gateway p50', color: '#1f77b4', values: pick('gateway', 1, (p) => p.latencyMs.p50) },
      { name: 'gateway p99', color: '#d62728', values: pick('gateway', 1, (p) => p.latencyMs.p99) },
      {
        name: 'floor p50 (direct SSE)',
        color: '#1f77b4',
        dashed: true,
        values: pick('floor', 1, (p) => p.latencyMs.p50),
      },
      {
        name: 'floor p99 (direct SSE)',
        color: '#d62728',
        dashed: true,
        values: pick('floor', 1, (p) => p.latencyMs.p99),
      },
      ...(multi.length
        ? [
            {
              name: `gateway p99, ${clients} clients/session`,
              color: '#9467bd',
              values: pick('gateway', clients, (p) => p.latencyMs.p99),
            },
          ]
        : []),
    ],
  };
  const cpu: Panel = {
    title: 'CPU seconds per 10k delivered deltas',
    xLabel: 'concurrent sessions streaming',
    yLabel: 'CPU s / 10k deltas',
    xValues: sessions,
    logY: true,
    series: [
      {
        name: 'gateway server process',
        color: '#2ca02c',
        values: pick('gateway', 1, (p) => p.serverCpuPer10k),
      },
      {
        name: 'floor client (direct SSE)',
        color: '#2ca02c',
        dashed: true,
        values: pick('floor', 1, (p) => p.clientCpuPer10k),
      },
      {
        name: 'client via gateway (socket.io)',
        color: '#ff7f0e',
        values: pick('gateway', 1, (p) => p.clientCpuPer10k),
      },
      ...(multi.length
        ? [
            {
              name: `gateway server, ${clients} clients/session`,
              color: '#9467bd',
              values: pick('gateway', clients, (p) => p.serverCpuPer10k),
            },
          ]
        : []),
    ],
  };
  return renderChart('Hermes Chat Gateway: streaming against load', subtitle, [latency, cpu]);
}

/**
 * Writes the JSON (raw figures and machine), the markdown summary and the stream chart. Full
 * runs go to bench/results and refresh the "latest figures" block of bench/README.md; quick
 * and partial runs are named after what ran, quick ones under results/tmp (not committed).
 */
export function writeResults(run: BenchRun): string[] {
  const { options, startedAt, results, machine } = run;
  const full = options.only.length === SCENARIO_NAMES.length;
  const dir = options.quick ? join(options.outDir, 'tmp') : options.outDir;
  mkdirSync(dir, { recursive: true });
  const name = full ? 'all' : options.only.join('+');
  const prefix = `${isoDate(startedAt)}${full ? '' : `-${name}`}${options.quick ? '-quick' : ''}`;
  const written: string[] = [];
  const write = (file: string, text: string): string => {
    const path = join(dir, file);
    writeFileSync(path, text);
    written.push(relative(process.cwd(), path));
    return file;
  };
  write(
    `${isoDate(startedAt)}-${name}${options.quick ? '-quick' : ''}.json`,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), options, machine, results }, null, 2)}\n`,
  );
  const stream = results.find((r) => r.name === 'stream');
  const points = (stream?.figures as { points?: StreamPoint[] } | undefined)?.points ?? [];
  const svg = streamChart(
    points,
    `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ${isoDate(startedAt)}`,
  );
  const chartFile = svg ? write(`${prefix}-stream.svg`, svg) : null;
  const summary = summaryMarkdown(run, chartFile);
  const summaryFile = write(`${prefix}-summary.md`, summary);
  if (full && !options.quick) updateReadme(run, summaryFile, chartFile);
  return written;
}

/** Replaces the block between the markers in bench/README.md with this run's figures. */
function updateReadme(run: BenchRun, summaryFile: string, chartFile: string | null): void {
  if (!existsSync(README)) return;
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf(LATEST_START);
  const end = readme.indexOf(LATEST_END);
  if (start < 0 || end < start) return;
  const block = [
    LATEST_START,
    '',
    `Run on ${isoDate(run.startedAt)}: ${machineLine(run.machine)}. Full figures: ` +
      `[results/${summaryFile}](results/${summaryFile}).`,
    '',
    targetsTable(run.results),
    ...(chartFile ? ['', `![stream: latency and CPU against load](results/${chartFile})`] : []),
    '',
    LATEST_END,
  ].join('\n');
  writeFileSync(README, readme.slice(0, start) + block + readme.slice(end + LATEST_END.length));
}
