import { closeAll, connect, nextEvent, request, type ServerEvent } from '../lib/chat-socket';
import { FakeHermes } from '../lib/processes';
import { waitForQuietMachine } from '../lib/proc-stats';
import { startSeededGateway } from '../lib/seeded-gateway';
import { distribution, nowMs, roundDistribution, type Distribution } from '../lib/stats';
import { check, ms, type BenchContext, type Scenario, type ScenarioOutcome } from '../lib/types';

interface ResumeSizes {
  /** Stored messages per session (half user, half assistant). */
  messages: number[];
  repeats: number;
}

const FULL: ResumeSizes = { messages: [1000, 10_000], repeats: 30 };
const QUICK: ResumeSizes = { messages: [500], repeats: 3 };

/** The server's default page (`resumed.messages`), from the protocol. */
const PAGE = 200;

export interface ResumePoint {
  messages: number;
  /** `resume` sent → `resumed` received. */
  timeMs: Distribution;
  coldMs: number;
  /** JSON bytes of the `resumed` payload (what Socket.IO puts on the wire, less its framing). */
  payloadBytes: number;
  messagesReturned: number;
  messageTotal: number;
  hasMoreBefore: boolean;
}

export const resumeScenario: Scenario = {
  name: 'resume',
  title: 'Resume on a long session',
  async run(context: BenchContext): Promise<ScenarioOutcome> {
    const sizes = context.options.quick ? QUICK : FULL;
    const fake = await FakeHermes.start();
    const points: ResumePoint[] = [];
    try {
      const seeds = sizes.messages.map((messages) => ({
        id: `resume-${messages}`,
        turns: messages / 2,
      }));
      context.log(`resume: seeding sessions of ${sizes.messages.join(', ')} messages`);
      const gateway = await startSeededGateway(
        { dist: context.options.dist, hermesUrl: fake.url },
        seeds,
      );
      try {
        for (const seed of seeds) {
          await waitForQuietMachine(context);
          // A fresh socket per resume, as after a page reload.
          const times: number[] = [];
          let last: ServerEvent | undefined;
          for (let i = 0; i < sizes.repeats; i++) {
            const socket = await connect(gateway.url, gateway.token);
            try {
              const resumed = nextEvent(socket, 'resumed');
              const t0 = nowMs();
              await request(socket, 'resume', { session_id: seed.id });
              last = await resumed;
              times.push(nowMs() - t0);
            } finally {
              closeAll([socket]);
            }
          }
          const payload = last!;
          const point: ResumePoint = {
            messages: seed.turns * 2,
            timeMs: roundDistribution(distribution(times)),
            coldMs: Math.round(times[0] * 1000) / 1000,
            payloadBytes: Buffer.byteLength(JSON.stringify(payload)),
            messagesReturned: Array.isArray(payload.messages) ? payload.messages.length : -1,
            messageTotal: Number(payload.messageTotal),
            hasMoreBefore: payload.hasMoreBefore === true,
          };
          points.push(point);
          context.log(
            `  ${point.messages} messages: p50 ${point.timeMs.p50} ms, cold ${point.coldMs} ms, ${point.payloadBytes} bytes, ${point.messagesReturned} messages`,
          );
        }
      } finally {
        await gateway.stop();
      }
    } finally {
      await fake.stop();
    }
    const largest = points[points.length - 1];
    const smallest = points[0];
    const big = points.find((p) => p.messages === 10_000);
    const bounded =
      largest &&
      largest.messagesReturned <= PAGE &&
      largest.payloadBytes <= smallest.payloadBytes * 1.1;
    return {
      figures: { sizes, page: PAGE, points },
      checks: [
        check(
          'resume at 10,000 messages: resume → resumed < 50 ms (p95)',
          big
            ? `p95 ${ms(big.timeMs.p95)} (p50 ${ms(big.timeMs.p50)}, first ${ms(big.coldMs)})`
            : 'not measured',
          big ? big.timeMs.p95 < 50 : null,
        ),
        check(
          'resume payload bounded by the page size',
          largest
            ? points
                .map(
                  (p) =>
                    `${p.messages} msgs: ${p.messagesReturned} returned, ${(p.payloadBytes / 1024).toFixed(1)} KB`,
                )
                .join('; ')
            : 'not measured',
          largest ? Boolean(bounded) : null,
        ),
      ],
      tables: [
        {
          title: `Resume (\`resume\` → \`resumed\`, default page of ${PAGE}), ${sizes.repeats} resumes per size, each on a new socket`,
          columns: [
            'stored messages',
            'p50',
            'p95',
            'max',
            'first (cold)',
            'payload bytes',
            'messages returned',
            'hasMoreBefore',
          ],
          rows: points.map((p) => [
            p.messages,
            ms(p.timeMs.p50),
            ms(p.timeMs.p95),
            ms(p.timeMs.max),
            ms(p.coldMs),
            p.payloadBytes,
            p.messagesReturned,
            String(p.hasMoreBefore),
          ]),
        },
      ],
    };
  },
};
