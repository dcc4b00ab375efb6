/**
 * The benchmark harness: `npm run bench` (after `nest build`), `npm run bench -- --quick`.
 * Starts the built gateway and the fake Hermes server as child processes on free ports with
 * temporary databases, drives them with socket.io-client, stops everything it started, and
 * writes bench/results/<date>-<name>.json, <date>-summary.md and <date>-stream.svg.
 */
import { cleanupNow, installCleanupHandlers } from './lib/cleanup';
import { machineInfo } from './lib/machine';
import { parseOptions, USAGE } from './lib/options';
import { writeResults } from './lib/report';
import type { BenchContext, Scenario, ScenarioResult } from './lib/types';
import { burstScenario } from './scenarios/burst';
import { clusterScenario } from './scenarios/cluster';
import { compressionScenario } from './scenarios/compression';
import { memoryScenario } from './scenarios/memory';
import { resumeScenario } from './scenarios/resume';
import { runStartScenario } from './scenarios/run-start';
import { streamScenario } from './scenarios/stream';

const SCENARIOS: Scenario[] = [
  streamScenario,
  burstScenario,
  runStartScenario,
  resumeScenario,
  memoryScenario,
  compressionScenario,
  clusterScenario,
];

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  installCleanupHandlers();
  const startedAt = new Date();
  const context: BenchContext = {
    options,
    log: (message) =>
      console.log(`[${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s] ${message}`),
  };
  const machine = machineInfo(options.dist);
  context.log(
    `bench${options.quick ? ' --quick' : ''}: ${options.only.join(', ')} on ${machine.cpuModel} ` +
      `(${machine.cores} cores), node ${machine.node}, commit ${machine.gitCommit ?? '?'}` +
      (machine.gitDirtySrc ? ' (src/ has uncommitted changes)' : ''),
  );
  const results: ScenarioResult[] = [];
  for (const scenario of SCENARIOS.filter((s) => options.only.includes(s.name))) {
    const began = Date.now();
    context.log(`== ${scenario.name}: ${scenario.title}`);
    try {
      const outcome = await scenario.run(context);
      results.push({
        name: scenario.name,
        title: scenario.title,
        durationS: (Date.now() - began) / 1000,
        ...outcome,
      });
    } catch (error) {
      // One broken scenario must not cost the figures of the others.
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      context.log(`${scenario.name} failed: ${message}`);
      results.push({
        name: scenario.name,
        title: scenario.title,
        durationS: (Date.now() - began) / 1000,
        error: message,
      });
    }
  }
  const written = writeResults({ options, machine, startedAt, results });
  for (const file of written) context.log(`wrote ${file}`);
  for (const result of results) {
    for (const c of result.checks ?? [])
      context.log(`${c.status.padEnd(4)} ${c.target}: ${c.measured}`);
  }
  // Figures are never a failure (benchmarks do not gate CI); a harness that broke is.
  return results.some((r) => r.error) ? 1 : 0;
}

main()
  .then((code) => {
    cleanupNow();
    process.exit(code);
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    cleanupNow();
    process.exit(1);
  });
