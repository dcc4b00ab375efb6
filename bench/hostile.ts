/**
 * The hostile-client targets, measured from outside against the built server (not timed tests):
 *
 * a. 8 unauthenticated WebSocket connections keep sending ~3 MB deeply nested frames:
 *    `/api/health` latency throughout (target: under 300 ms);
 * b. one authenticated socket floods 20,000 `abort`s (then 5,000 `resume`s, then a flooder
 *    that reconnects each time it is dropped): another session's delta gaps (target: p99 under
 *    200 ms);
 * c. 5 readers that stop reading, each on its own 0.2 MB/s stream, for 60 s: the server's RSS
 *    growth (target: under 150 MB) and whether the readers were disconnected. `c` uses
 *    session-less streams (what the server holds for a reader is then only what waits to be
 *    sent to it); `c2` stored sessions the readers resumed, and `c3` the same load with readers
 *    that keep reading, to tell the readers' cost from the run path's;
 * d. the upstream is SIGKILLed mid-run with a run queued behind it, at default settings: the
 *    time to each run's terminal event (target: `run.failed` within 90 s, the queued run too).
 *
 * Attackers run in child processes (this script with `--attack`), so that their work does not
 * delay the client that measures; the machine's load is reported with each figure.
 *
 * `npm run bench:hostile` (builds first), or after `nest build`:
 * `ts-node --transpile-only --project bench/tsconfig.json bench/hostile.ts [--only a,b,c,c2,c3,d]
 * [--dist dist/main.js] [--out bench/results] [--gateway-env JSON]`. Writes
 * <out>/<date>-hostile.json.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Manager, type Socket } from 'socket.io-client';
import { StallingProxy } from '../test/e2e/support/stalling-proxy';
import { connect, createSession, request } from './lib/chat-socket';
import { cleanupNow, installCleanupHandlers, trackChild } from './lib/cleanup';
import { machineInfo } from './lib/machine';
import { DEFAULT_LIMITS, FakeHermes, Gateway, REPO_ROOT } from './lib/processes';
import { machineBusySeconds, rssBytes } from './lib/proc-stats';
import { distribution, nowMs, roundDistribution, sleep } from './lib/stats';

interface Load {
  /** 1-minute load average when the scenario started and ended. */
  loadavgBefore: number;
  loadavgAfter: number;
  /** Share of all cores busy during the scenario (every process on the machine). */
  machineBusyShare: number;
}

const { values } = parseArgs({
  options: {
    // Internal: this script as an attacker, in its own process (see `attacker`).
    attack: { type: 'string' },
    url: { type: 'string' },
    token: { type: 'string' },
    'duration-ms': { type: 'string', default: '15000' },
    only: { type: 'string', default: 'a,b,c,c2,c3,d' },
    // Extra gateway settings, e.g. '{"SOCKET_MAX_BUFFERED_BYTES":"1048576"}'.
    'gateway-env': { type: 'string', default: '{}' },
    dist: { type: 'string', default: join(REPO_ROOT, 'dist', 'main.js') },
    out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results') },
  },
});
const only = new Set((values.only ?? '').split(','));
const dist = resolve(values.dist ?? '');
const log = (message: string): void => console.log(`[hostile] ${message}`);

/** Runs `work` and reports how loaded the machine was meanwhile. */
async function withLoad<T>(work: () => Promise<T>): Promise<T & { load: Load }> {
  const loadavgBefore = loadavg()[0];
  const busyBefore = machineBusySeconds();
  const started = performance.now();
  const result = await work();
  const wallS = (performance.now() - started) / 1000;
  const cores = machineInfo(dist).cores;
  return {
    ...result,
    load: {
      loadavgBefore: round2(loadavgBefore),
      loadavgAfter: round2(loadavg()[0]),
      machineBusyShare: round2((machineBusySeconds() - busyBefore) / (wallS * cores)),
    },
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

const gatewayEnv = JSON.parse(values['gateway-env'] ?? '{}') as Record<string, string>;

async function startPair(env: Record<string, string> = {}): Promise<{
  hermes: FakeHermes;
  gateway: Gateway;
  logLines: string[];
}> {
  const hermes = await FakeHermes.start({ keepaliveMs: 1000 });
  const logLines: string[] = [];
  const gateway = await Gateway.start({
    dist,
    hermesUrl: hermes.url,
    // The limits under test, as a deployment has them.
    env: { ...DEFAULT_LIMITS, ...gatewayEnv, ...env },
    onLine: (line) => logLines.push(line),
  });
  return { hermes, gateway, logLines };
}

async function stopPair(pair: { hermes: FakeHermes; gateway: Gateway }): Promise<void> {
  await pair.gateway.stop();
  await pair.hermes.stop();
}

/** Polls `/api/health` back to back (25 ms apart) until `stop` resolves. */
async function healthLatencies(url: string, stop: Promise<void>): Promise<number[]> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const latencies: number[] = [];
  while (!stopped) {
    const started = performance.now();
    const response = await fetch(`${url}/api/health`);
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
    await sleep(25);
  }
  return latencies;
}

// --- the attackers ---------------------------------------------------------------------------

const DEEP_FRAME_DEPTH = 1_500_000; // 3 MB of brackets

/**
 * 8 connections that each send a ~3 MB deeply nested CONNECT frame without a valid token, and
 * open a new connection and send again whenever the server closes one.
 */
async function attackDeep(url: string, durationMs: number): Promise<Record<string, unknown>> {
  const depth = DEEP_FRAME_DEPTH;
  const frame = `0/chat-run,{"token":"x","a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const until = Date.now() + durationMs;
  let sent = 0;
  const connection = async (): Promise<void> => {
    while (Date.now() < until) {
      const manager = new Manager(url, {
        transports: ['websocket'],
        reconnection: false,
        autoConnect: false,
      });
      await new Promise<void>((done, fail) =>
        manager.open((error) => (error ? fail(error) : done())),
      );
      const closed = new Promise((done) => manager.once('close', done));
      manager.engine.send(frame);
      sent++;
      // A server that parses instead of closing keeps the connection: move on after a while.
      await Promise.race([closed, sleep(Math.max(0, until - Date.now()))]);
      manager.engine.close();
    }
  };
  await Promise.all(Array.from({ length: 8 }, connection));
  return { connections: 8, framesSent: sent, frameBytes: frame.length };
}

/** Emits `count` events at once; resolves how many were refused, and whether it was dropped. */
async function flood(
  url: string,
  token: string,
  event: string,
  payload: (i: number) => unknown,
  count: number,
): Promise<{ sent: number; refused: number; disconnected: boolean }> {
  const socket = await connect(url, token);
  let refused = 0;
  socket.on('request.error', () => refused++);
  const disconnected = new Promise<boolean>((done) => socket.once('disconnect', () => done(true)));
  // All at once, as a hostile client would: the events queue up and go out back to back.
  for (let i = 0; i < count; i++) socket.emit(event, payload(i));
  const wasDisconnected = await Promise.race([disconnected, sleep(3000).then(() => false)]);
  socket.disconnect();
  return { sent: count, refused, disconnected: wasDisconnected };
}

const ATTACKS: Record<
  string,
  (url: string, token: string, durationMs: number) => Promise<Record<string, unknown>>
> = {
  deep: (url, _token, durationMs) => attackDeep(url, durationMs),
  abort: (url, token) => flood(url, token, 'abort', () => ({ session_id: 'flood' }), 20_000),
  resume: (url, token) => flood(url, token, 'resume', (i) => ({ session_id: `s${i % 50}` }), 5_000),
  // A flooder that connects again each time it is dropped, for the whole duration.
  reconnect: async (url, token, durationMs) => {
    const until = Date.now() + durationMs;
    let connections = 0;
    let sent = 0;
    while (Date.now() < until) {
      const round = await flood(url, token, 'abort', () => ({ session_id: 'f' }), 20_000);
      connections++;
      sent += round.sent;
    }
    return { connections, sent };
  },
};

/**
 * Runs one attack in a child process (this script with `--attack`), so that its work does not
 * delay the client that measures; resolves what the attacker reports.
 */
function attacker(
  attack: keyof typeof ATTACKS,
  url: string,
  token: string,
  durationMs: number,
): { finished: Promise<Record<string, unknown>> } {
  const child = fork(
    __filename,
    ['--attack', attack, '--url', url, '--token', token, '--duration-ms', String(durationMs)],
    {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, TS_NODE_PROJECT: join(REPO_ROOT, 'bench', 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  trackChild(child);
  let printed = '';
  child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const finished = new Promise<Record<string, unknown>>((done) =>
    child.once('exit', () =>
      done(JSON.parse(printed.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>),
    ),
  );
  return { finished };
}

// --- a. unauthenticated deep frames ----------------------------------------------------------

async function deepFrames(): Promise<Record<string, unknown>> {
  const pair = await startPair();
  try {
    const baseline = await healthLatencies(pair.gateway.url, sleep(2000));
    const durationMs = 15_000;
    const attack = attacker('deep', pair.gateway.url, '', durationMs);
    const during = await healthLatencies(
      pair.gateway.url,
      attack.finished.then(() => undefined),
    );
    return {
      durationMs,
      ...(await attack.finished),
      healthBaselineMs: roundDistribution(distribution(baseline)),
      healthDuringMs: roundDistribution(distribution(during)),
    };
  } finally {
    await stopPair(pair);
  }
}

// --- b. floods from one authenticated socket -------------------------------------------------

/** Streams one session (a delta every 10 ms) and keeps the gaps between deltas as they arrive. */
async function watchStream(
  url: string,
  token: string,
  sessionId: string,
  deltas: number,
): Promise<{ socket: Socket; gaps: number[]; done: Promise<void> }> {
  const socket = await connect(url, token);
  const gaps: number[] = [];
  let last: number | undefined;
  socket.on('message.delta', () => {
    const now = nowMs();
    if (last !== undefined) gaps.push(now - last);
    last = now;
  });
  const done = new Promise<void>((finished) => socket.once('run.completed', () => finished()));
  await request(socket, 'run', {
    session_id: sessionId,
    input: `stream [[deltas:${deltas},interval:10]]`,
  });
  return { socket, gaps, done };
}

async function floods(): Promise<Record<string, unknown>> {
  const pair = await startPair();
  const { url, token } = pair.gateway;
  try {
    const outcome: Record<string, unknown> = {};
    const cases: [string, keyof typeof ATTACKS][] = [
      ['abort x 20,000', 'abort'],
      ['resume x 5,000', 'resume'],
      ['reconnecting flooder (abort x 20,000 per connection), 10 s', 'reconnect'],
    ];
    for (const [index, [name, attack]] of cases.entries()) {
      // The victim streams for 15 s (1,500 deltas 10 ms apart); the flood starts 1 s in.
      const stream = await watchStream(url, token, `victim-${index}`, 1500);
      await sleep(1000);
      const flooded = await attacker(attack, url, token, 10_000).finished;
      await stream.done;
      stream.socket.disconnect();
      outcome[name] = {
        flood: flooded,
        victimDeltaGapsMs: roundDistribution(distribution(stream.gaps)),
      };
      log(`b. ${name}: ${JSON.stringify(outcome[name])}`);
    }
    return outcome;
  } finally {
    await stopPair(pair);
  }
}

// --- c. readers that stop reading ------------------------------------------------------------

/**
 * 5 readers, each on its own 0.2 MB/s stream (2 KB deltas 10 ms apart) for 60 s, stop reading
 * (a proxy stops reading from the server for them). `sessionless`: each reader's stream is a
 * session-less run of its own, so the server holds nothing for it but what waits to be sent;
 * `sessions`: each stream is a stored session the reader resumed, driven by another client, so
 * the server also holds what the run path keeps of 5 growing replies. `stall: false` is the same
 * load with readers that keep reading, for comparison.
 */
async function slowReaders(
  mode: 'sessionless' | 'sessions',
  stall: boolean,
): Promise<Record<string, unknown>> {
  const pair = await startPair();
  const { url, token } = pair.gateway;
  const { proxy, url: proxyUrl } = await StallingProxy.start(url);
  try {
    const readers = 5;
    const durationS = 60;
    const input = `go [[deltas:${durationS * 100},interval:10,text:${'r'.repeat(2000)}]]`;
    const sessions = Array.from({ length: readers }, (_, i) => `slow-${i}`);
    const sockets: Socket[] = [];
    for (const id of sessions) {
      const socket = await connect(proxyUrl, token);
      if (mode === 'sessions') {
        await createSession(url, token, id);
        await request(socket, 'resume', { session_id: id });
      }
      sockets.push(socket);
    }
    const driver = await connect(url, token);
    // When the first reply ended: the end of a run (its 12 MB `run.completed`, the final write)
    // costs memory of its own, told apart from what streaming costs.
    let firstEndS: number | undefined;
    let stalledAt = Date.now();
    const noteEnd = () => (firstEndS ??= round2((Date.now() - stalledAt) / 1000));
    if (mode === 'sessions') driver.on('run.completed', noteEnd);
    else for (const socket of sockets) socket.on('run.completed', noteEnd);
    const rssBefore = rssBytes(pair.gateway.pid);
    for (const [index, id] of sessions.entries()) {
      if (mode === 'sessions') await request(driver, 'run', { session_id: id, input });
      else await request(sockets[index], 'run', { input });
    }
    if (stall) proxy.stall();
    stalledAt = Date.now();
    const samples: { atS: number; rssMb: number }[] = [];
    let rssMax = rssBefore;
    const dropped: number[] = [];
    let seenLines = 0;
    while (Date.now() - stalledAt < (durationS + 5) * 1000) {
      const rss = rssBytes(pair.gateway.pid);
      rssMax = Math.max(rssMax, rss);
      samples.push({ atS: round2((Date.now() - stalledAt) / 1000), rssMb: round2(rss / 2 ** 20) });
      for (; seenLines < pair.logLines.length; seenLines++) {
        if (pair.logLines[seenLines].includes('stopped reading')) {
          dropped.push(round2((Date.now() - stalledAt) / 1000));
        }
      }
      await sleep(500);
    }
    const rssEnd = rssBytes(pair.gateway.pid);
    driver.disconnect();
    for (const socket of sockets) socket.disconnect();
    return {
      mode,
      readersStopReading: stall,
      readers,
      streamMBps: 0.2,
      durationS,
      rssBeforeMb: round2(rssBefore / 2 ** 20),
      rssMaxMb: round2(rssMax / 2 ** 20),
      rssEndMb: round2(rssEnd / 2 ** 20),
      rssGrowthMaxMb: round2((rssMax - rssBefore) / 2 ** 20),
      firstReplyEndedAtS: firstEndS ?? null,
      rssGrowthWhileStreamingMb: round2(
        Math.max(
          ...samples
            // The last 2 s before the first reply ended: its end is read in then (a 12 MB event).
            .filter((sample) => sample.atS < Math.min(firstEndS ?? Infinity, durationS) - 2)
            .map((sample) => sample.rssMb),
        ) -
          rssBefore / 2 ** 20,
      ),
      readersDisconnected: dropped.length,
      disconnectedAtS: dropped,
      rssEvery5s: samples.filter((_, i) => i % 10 === 0).map((sample) => sample.rssMb),
    };
  } finally {
    await proxy.stop();
    await stopPair(pair);
  }
}

// --- d. the upstream dies mid-run ------------------------------------------------------------

/**
 * A run streams on a stored session with another queued behind it; the fake Hermes server is
 * SIGKILLed mid-stream, at the gateway's default settings. Measures from the kill to each run's
 * terminal event (the target: `run.failed` within 90 s, the queued run ending too).
 */
async function upstreamDies(): Promise<Record<string, unknown>> {
  const pair = await startPair();
  const { gateway, hermes } = pair;
  const socket = await connect(gateway.url, gateway.token);
  try {
    const sessionId = `hostile-d-${process.pid}`;
    await createSession(gateway.url, gateway.token, sessionId);
    const ends: { event: string; code?: string; atMs: number }[] = [];
    let killedAt = 0;
    const ended = new Promise<void>((done) => {
      const onEnd = (event: string) => (payload: { code?: string }) => {
        ends.push({ event, code: payload.code, atMs: nowMs() - killedAt });
        if (ends.length === 2) done();
      };
      for (const event of ['run.completed', 'run.failed', 'abort.completed']) {
        socket.on(event, onEnd(event));
      }
    });
    const firstDelta = new Promise<void>((seen) => socket.once('message.delta', () => seen()));
    const input = 'long [[deltas:100000,interval:20]]';
    await request(socket, 'run', { session_id: sessionId, input });
    await firstDelta;
    const queued = await request(socket, 'run', { session_id: sessionId, input: 'next' });
    await sleep(1000);
    killedAt = nowMs();
    await hermes.kill();
    await Promise.race([ended, sleep(300_000)]);
    return {
      queuedStatus: queued.status,
      ends: ends.map((end) => ({ ...end, atMs: Math.round(end.atMs) })),
      bothEnded: ends.length === 2,
    };
  } finally {
    socket.close();
    await gateway.stop();
  }
}

async function main(): Promise<void> {
  if (values.attack) {
    const result = await ATTACKS[values.attack](
      values.url ?? '',
      values.token ?? '',
      Number(values['duration-ms']),
    );
    console.log(JSON.stringify(result));
    return;
  }
  installCleanupHandlers();
  const machine = machineInfo(dist);
  log(
    `${dist} on ${machine.cpuModel} (${machine.cores} cores), commit ${machine.gitCommit ?? '?'}`,
  );
  const results: Record<string, unknown> = { machine, startedAt: new Date().toISOString() };
  const scenarios: [string, string, () => Promise<Record<string, unknown>>][] = [
    ['a', 'unauthenticated deep frames', deepFrames],
    ['b', 'event floods', floods],
    [
      'c',
      'readers that stop reading, session-less streams',
      () => slowReaders('sessionless', true),
    ],
    ['c2', 'readers that stop reading, stored sessions', () => slowReaders('sessions', true)],
    ['c3', 'the same stored sessions, readers reading', () => slowReaders('sessions', false)],
    ['d', 'the upstream dies mid-run, a run queued behind it', upstreamDies],
  ];
  for (const [key, title, run] of scenarios) {
    if (!only.has(key)) continue;
    log(`== ${key}. ${title}`);
    results[key] = await withLoad(run);
    log(`${key}. ${JSON.stringify(results[key])}`);
  }
  const file = join(
    resolve(values.out ?? ''),
    `${new Date().toISOString().slice(0, 10)}-hostile.json`,
  );
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${file}`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanupNow());
