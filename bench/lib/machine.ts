import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem, type } from 'node:os';
import { relative } from 'node:path';
import { REPO_ROOT } from './processes';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryGb: number;
  os: string;
  node: string;
  gitCommit: string | null;
  /** Uncommitted changes in src/ when the run started: the figures are of that tree. */
  gitDirtySrc: boolean | null;
  /** The measured server: `dist/main.js`, or the path given with `--dist`. */
  server: string;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(dist: string): MachineInfo {
  const list = cpus();
  const status = git(['status', '--porcelain', '--', 'src']);
  return {
    cpuModel: list[0]?.model ?? 'unknown',
    cores: list.length,
    totalMemoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    gitCommit: git(['rev-parse', '--short=12', 'HEAD']),
    gitDirtySrc: status === null ? null : status.length > 0,
    server: relative(REPO_ROOT, dist).startsWith('..') ? dist : relative(REPO_ROOT, dist),
  };
}
