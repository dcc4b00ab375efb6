import { parseArgs } from 'node:util';
import { isAbsolute, join, resolve } from 'node:path';
import { REPO_ROOT } from './processes';
import { SCENARIO_NAMES, type BenchOptions, type ScenarioName } from './types';

export const USAGE = `Usage: npm run bench -- [--quick] [--only stream,burst,run-start,resume,memory,compression,cluster]
                       [--out bench/results] [--dist dist/main.js] [--profile] [--real-eviction]

  --quick          tiny sizes: proves the harness works in well under a minute (CI smoke)
  --only LIST      run only these scenarios (comma-separated)
  --out DIR        where results go (default bench/results)
  --dist FILE      the built server to measure (default dist/main.js)
  --profile        CPU-profile the gateway in the largest stream run; hot spots go in the summary
  --real-eviction  memory: keep the default SESSION_IDLE_MS (5 min) and wait for it (adds ~7 min)`;

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      dist: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'real-eviction': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const only = values.only
    ? values.only
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean)
    : [...SCENARIO_NAMES];
  for (const name of only) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
      throw new Error(`Unknown scenario '${name}'; known: ${SCENARIO_NAMES.join(', ')}`);
    }
  }
  const path = (value: string | undefined, fallback: string): string =>
    value === undefined ? join(REPO_ROOT, fallback) : isAbsolute(value) ? value : resolve(value);
  return {
    quick: values.quick,
    only: only as ScenarioName[],
    outDir: path(values.out, 'bench/results'),
    dist: path(values.dist, 'dist/main.js'),
    profile: values.profile,
    realEviction: values['real-eviction'],
  };
}
