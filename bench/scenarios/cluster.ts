/**
 * Several instances: the stream scenario with its clients spread over two gateways sharing
 * PostgreSQL and Redis, against one gateway on the same PostgreSQL serving the same load (the CPU
 * that multi-instance mode adds per delivered delta); and the takeover time after one of two
 * instances is SIGKILLed mid-run. Needs the machine's PostgreSQL and Redis; without them the
 * scenario reports "not available".
 */
import { createClient } from '@redis/client';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { Socket } from 'socket.io-client';
import { closeAll, connect, request, type ServerEvent } from '../lib/chat-socket';
import { FakeHermes, Gateway } from '../lib/processes';
import { CpuMeter, waitForQuietMachine } from '../lib/proc-stats';
import { nowMs, round, roundDistribution, sleep, type Distribution } from '../lib/stats';
import { StreamTracker } from '../lib/stream-tracker';
import {
  check,
  ms,
  type BenchContext,
  type Check,
  type Scenario,
  type ScenarioOutcome,
} from '../lib/types';
import { warmUp } from '../lib/warm-up';

import { withTimeout } from '../lib/window-meters';

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A gateway keeps the events of a session off Redis when no other instance listens to it, but
 * only once it has heard the other instances' heartbeats (`PEERS_KNOWN_AFTER_MS`, 10 s after
 * its start, in src/chat-run/cluster/room-interest.ts); sessions it takes before stay shared.
 */
const PEERS_SETTLE_MS = 11_000;

interface ClusterSizes {
  sessions: number;
  deltas: number;
  intervalMs: number;
  rampMs: number;
  leaseMs: number;
  takeoverDeltas: number;
}

const FULL: ClusterSizes = {
  sessions: 200,
  deltas: 200,
  intervalMs: 20,
  rampMs: 1000,
  leaseMs: 5000,
  takeoverDeltas: 60,
};

const QUICK: ClusterSizes = {
  sessions: 10,
  deltas: 20,
  intervalMs: 20,
  rampMs: 100,
  leaseMs: 2000,
  takeoverDeltas: 60,
};

const DELTA_TEXT = '{i}:lorem-ipsum-dolor';

interface ClusterPoint {
  instances: number;
  sessions: number;
  expected: number;
  delivered: number;
  lost: number;
  outOfOrder: number;
  duplicates: number;
  latencyMs: Distribution;
  serverCpuS: number;
  /** Server CPU (all instances) per delivered delta, µs. */
  serverCpuPerDeltaUs: number;
  /** Entries the instances added to the Redis stream, per delivered delta (null: no Redis). */
  publishedPerDelta: number | null;
}

interface Takeover {
  leaseMs: number;
  /** SIGKILL → the run's `run.completed` on a client of the surviving instance. */
  terminalAfterKillMs: number;
  replyWhole: boolean;
  queuedRunsCreated: number;
}

/** A PostgreSQL schema and a Redis key prefix of their own, removed afterwards. */
class SharedStores {
  readonly schema = `bench_cluster_${process.pid}_${randomBytes(3).toString('hex')}`;
  readonly prefix = `bench-cluster-${process.pid}-${randomBytes(3).toString('hex')}:`;

  static async available(): Promise<string | null> {
    try {
      const pg = new Client({ connectionString: POSTGRES_URL });
      await pg.connect();
      await pg.end();
      const redis = createClient({ url: REDIS_URL });
      await redis.connect();
      await redis.quit();
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  env(redis: boolean): Record<string, string> {
    return {
      DATABASE_URL: POSTGRES_URL,
      DATABASE_SCHEMA: this.schema,
      ...(redis
        ? { REDIS_URL, REDIS_KEY_PREFIX: this.prefix, RUN_LEASE_MS: String(FULL.leaseMs) }
        : {}),
    };
  }

  /** Entries ever added to the adapter's stream (the stream is trimmed; this count is not). */
  async streamEntriesAdded(): Promise<number> {
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      const info = await redis.sendCommand<unknown[]>([
        'XINFO',
        'STREAM',
        `${this.prefix}socket.io`,
      ]);
      const at = info.findIndex((field) => String(field) === 'entries-added');
      return at >= 0 ? Number(info[at + 1]) : 0;
    } catch {
      return 0; // No stream yet: nothing was published.
    } finally {
      await redis.quit();
    }
  }

  async drop(): Promise<void> {
    const pg = new Client({ connectionString: POSTGRES_URL });
    await pg.connect();
    await pg.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    await pg.end();
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    const keys = await redis.keys(`${this.prefix}*`);
    if (keys.length > 0) await redis.del(keys);
    await redis.quit();
  }
}

function runInput(deltas: number, intervalMs: number): string {
  return `bench cluster [[deltas:${deltas},interval:${intervalMs},text:${DELTA_TEXT}]]`;
}

/** S sessions, session i on instance i mod n; each sends one run there. */
async function measureStream(
  context: BenchContext,
  instances: Gateway[],
  sizes: ClusterSizes,
  published: (() => Promise<number>) | null,
): Promise<ClusterPoint> {
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < sizes.sessions; i++) {
      const gateway = instances[i % instances.length];
      sockets.push(await connect(gateway.url, gateway.token));
    }
    await waitForQuietMachine(context);
    const tracker = new StreamTracker(sizes.deltas);
    sockets.forEach((socket) => {
      const state = tracker.open();
      socket.on('message.delta', (p: ServerEvent) =>
        tracker.delta(state, p.delta, p.sent_at, p.seq),
      );
      socket.on('run.completed', () => tracker.complete(state));
      socket.on('run.failed', () => tracker.complete(state));
    });
    const meters = instances.map((gateway) => CpuMeter.forPid(gateway.pid));
    const publishedBefore = published ? await published() : 0;
    const input = runInput(sizes.deltas, sizes.intervalMs);
    const prefix = `cluster-${instances.length}-${Date.now()}`;
    const start = Date.now();
    sockets.forEach((socket, i) => {
      const due = start + (i * sizes.rampMs) / sizes.sessions;
      setTimeout(
        () => socket.emit('run', { session_id: `${prefix}-${i}`, input }),
        Math.max(0, due - Date.now()),
      );
    });
    await withTimeout(
      tracker.allCompleted,
      sizes.deltas * sizes.intervalMs + sizes.rampMs + 60_000,
      `cluster stream (${instances.length} instances)`,
    );
    const serverCpuS = meters.reduce((sum, meter) => sum + meter.elapsed(), 0);
    const publishedDuring = published ? (await published()) - publishedBefore : null;
    const totals = tracker.totals();
    return {
      instances: instances.length,
      sessions: sizes.sessions,
      expected: totals.expected,
      delivered: totals.delivered,
      lost: totals.lost,
      outOfOrder: totals.outOfOrder,
      duplicates: totals.duplicates,
      latencyMs: roundDistribution(tracker.latencies.summary()),
      serverCpuS: round(serverCpuS),
      serverCpuPerDeltaUs:
        totals.delivered > 0 ? round((serverCpuS * 1e6) / totals.delivered, 1) : NaN,
      publishedPerDelta:
        publishedDuring === null || totals.delivered === 0
          ? null
          : round(publishedDuring / totals.delivered, 3),
    };
  } finally {
    closeAll(sockets);
  }
}

/** One of two instances dies mid-run; how long until a client of the other sees the end. */
async function measureTakeover(
  fake: FakeHermes,
  stores: SharedStores,
  dist: string,
  sizes: ClusterSizes,
): Promise<Takeover> {
  const env = { ...stores.env(true), RUN_LEASE_MS: String(sizes.leaseMs) };
  const doomed = await Gateway.start({ dist, hermesUrl: fake.url, env });
  // Instances of one deployment share the token.
  const survivor = await Gateway.start({
    dist,
    hermesUrl: fake.url,
    env: { ...env, AUTH_TOKEN: doomed.token },
  });
  const sockets: Socket[] = [];
  try {
    const survivorSocket = await connect(survivor.url, survivor.token);
    const ownerSocket = await connect(doomed.url, doomed.token);
    sockets.push(survivorSocket, ownerSocket);
    const sessionId = `takeover-${Date.now()}`;
    const long = runInput(sizes.takeoverDeltas, 50);
    await request(ownerSocket, 'resume', { session_id: sessionId });
    await request(survivorSocket, 'resume', { session_id: sessionId });
    await request(ownerSocket, 'run', { session_id: sessionId, input: long });
    await request(ownerSocket, 'run', { session_id: sessionId, input: 'then this [[deltas:2]]' });
    await new Promise<void>((resolve) => {
      let seen = 0;
      survivorSocket.on('message.delta', () => {
        if (++seen === 10) resolve();
      });
    });
    const completed = new Promise<ServerEvent>((resolve) =>
      survivorSocket.on('run.completed', (payload: ServerEvent) => {
        if (String(payload.output).startsWith('0:')) resolve(payload);
      }),
    );
    const killedAt = nowMs();
    await doomed.kill();
    const payload = await withTimeout(completed, sizes.leaseMs + 60_000, 'takeover');
    const terminalAfterKillMs = nowMs() - killedAt;
    const expected = Array.from({ length: sizes.takeoverDeltas }, (_, i) =>
      DELTA_TEXT.replace('{i}', String(i)),
    ).join('');
    await new Promise<void>((resolve) =>
      survivorSocket.on('run.completed', (p: ServerEvent) => {
        if (!String(p.output).startsWith('0:')) resolve();
      }),
    );
    const runs = await fake.runs();
    return {
      leaseMs: sizes.leaseMs,
      terminalAfterKillMs: round(terminalAfterKillMs, 0),
      replyWhole: payload.output === expected,
      queuedRunsCreated: runs.filter((run) => run.input.startsWith('then this')).length,
    };
  } finally {
    closeAll(sockets);
    await Promise.all([doomed.stop(), survivor.stop()]);
  }
}

function checks(points: ClusterPoint[], takeover: Takeover | undefined): Check[] {
  const [one, two] = points;
  const ratio = one && two ? two.serverCpuPerDeltaUs / one.serverCpuPerDeltaUs : undefined;
  return [
    check(
      'cluster: server CPU per delivered delta with 2 instances ≤ 1.15× one instance',
      ratio === undefined
        ? 'not measured'
        : `${two.serverCpuPerDeltaUs} µs vs ${one.serverCpuPerDeltaUs} µs (${ratio.toFixed(2)}×)`,
      ratio === undefined ? null : ratio <= 1.15,
    ),
    check(
      'cluster: nothing lost with 2 instances',
      two ? `${two.delivered}/${two.expected}, ${two.outOfOrder} out of order` : 'not measured',
      two ? two.lost + two.outOfOrder + two.duplicates === 0 : null,
    ),
    check(
      'cluster: after a SIGKILL the terminal event reaches the other instance within RUN_LEASE_MS + 5 s, reply whole, queue once',
      takeover
        ? `${ms(takeover.terminalAfterKillMs, 0)} (lease ${takeover.leaseMs} ms), whole: ${takeover.replyWhole}, queued run created ${takeover.queuedRunsCreated}×`
        : 'not measured',
      takeover
        ? takeover.terminalAfterKillMs <= takeover.leaseMs + 5000 &&
            takeover.replyWhole &&
            takeover.queuedRunsCreated === 1
        : null,
    ),
  ];
}

export const clusterScenario: Scenario = {
  name: 'cluster',
  title: 'Several instances: CPU per delta with 2 instances vs 1, and takeover after a SIGKILL',
  async run(context): Promise<ScenarioOutcome> {
    const sizes = context.options.quick ? QUICK : FULL;
    const missing = await SharedStores.available();
    if (missing) {
      context.log(`cluster: PostgreSQL or Redis unavailable (${missing}); not measured`);
      return { figures: { unavailable: missing }, checks: checks([], undefined), tables: [] };
    }
    const fake = await FakeHermes.start();
    const points: ClusterPoint[] = [];
    let takeover: Takeover | undefined;
    const stores = new SharedStores();
    try {
      // The third point is the load each of the two instances carries, on one instance alone:
      // CPU per delta falls as load rises (reads and writes batch), which is part of the ratio.
      const layouts = [
        { count: 1, sessions: sizes.sessions },
        { count: 2, sessions: sizes.sessions },
        { count: 1, sessions: Math.round(sizes.sessions / 2) },
      ];
      for (const { count, sessions } of layouts) {
        context.log(`cluster: ${sessions} sessions on ${count} instance(s)`);
        const env = stores.env(count > 1);
        const first = await Gateway.start({ dist: context.options.dist, hermesUrl: fake.url, env });
        const rest = await Promise.all(
          Array.from({ length: count - 1 }, () =>
            Gateway.start({
              dist: context.options.dist,
              hermesUrl: fake.url,
              env: { ...env, AUTH_TOKEN: first.token },
            }),
          ),
        );
        const instances = [first, ...rest];
        const started = Date.now();
        try {
          for (const gateway of instances) await warmUp(gateway);
          // Measured as instances run for hours: once they know each other (see the constant).
          if (count > 1) await sleep(Math.max(0, started + PEERS_SETTLE_MS - Date.now()));
          points.push(
            await measureStream(
              context,
              instances,
              { ...sizes, sessions },
              count > 1 ? () => stores.streamEntriesAdded() : null,
            ),
          );
          const point = points.at(-1)!;
          context.log(
            `  ${point.serverCpuPerDeltaUs} µs server CPU per delta, p99 ${point.latencyMs.p99} ms, ` +
              `delivered ${point.delivered}/${point.expected}`,
          );
        } finally {
          await Promise.all(instances.map((gateway) => gateway.stop()));
        }
      }
      context.log('cluster: takeover after SIGKILL');
      takeover = await measureTakeover(fake, stores, context.options.dist, sizes);
      context.log(`  terminal event ${takeover.terminalAfterKillMs} ms after the kill`);
    } finally {
      await fake.stop();
      await stores.drop().catch(() => undefined);
    }
    return {
      figures: { sizes, points, takeover },
      checks: checks(points, takeover),
      tables: [
        {
          title: `Several instances: ${sizes.sessions} sessions × ${sizes.deltas} deltas every ${sizes.intervalMs} ms (starts over ${sizes.rampMs} ms), session i on instance i mod n`,
          columns: [
            'instances',
            'sessions',
            'delivered',
            'lost+reordered',
            'p50 ms',
            'p99 ms',
            'server CPU s',
            'server CPU µs/delta',
            'Redis entries/delta',
          ],
          rows: points.map((p) => [
            p.instances,
            p.sessions,
            `${p.delivered}/${p.expected}`,
            p.lost + p.outOfOrder + p.duplicates,
            p.latencyMs.p50.toFixed(2),
            p.latencyMs.p99.toFixed(2),
            p.serverCpuS.toFixed(2),
            p.serverCpuPerDeltaUs.toFixed(1),
            p.publishedPerDelta === null ? '–' : p.publishedPerDelta.toFixed(3),
          ]),
          note:
            'All points on the same PostgreSQL; 2 instances add Redis (Streams adapter) and leases, ' +
            'and start measuring once they know each other (11 s after starting). The last row is ' +
            'one instance carrying what each of the two does. Server CPU is the sum over the ' +
            'instances (/proc/<pid>/stat); Redis entries counts everything the instances added to ' +
            'the stream (room events, forwarded requests, heartbeats).',
        },
        ...(takeover
          ? [
              {
                title: 'Takeover: one of two instances SIGKILLed mid-run',
                columns: [
                  'RUN_LEASE_MS',
                  'kill → run.completed on the other instance',
                  'reply whole',
                  'queued run created',
                ],
                rows: [
                  [
                    takeover.leaseMs,
                    ms(takeover.terminalAfterKillMs, 0),
                    String(takeover.replyWhole),
                    takeover.queuedRunsCreated,
                  ],
                ],
              },
            ]
          : []),
      ],
    };
  },
};
