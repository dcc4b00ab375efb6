/**
 * The fake Hermes server as a child process of the harness (forked with an IPC channel), so that
 * its CPU never counts as the client's or the gateway's. Besides HTTP it answers a few questions
 * over IPC that HTTP cannot: which runs were created, and when (for the compression scenario).
 */
import { FakeHermesServer } from '../../test/fake-hermes';
import type { FakeRequest, FakeReply, FakeRunInfo, FakeChildOptions } from './fake-hermes.protocol';

function runInfo(server: FakeHermesServer): FakeRunInfo[] {
  return server.listRuns().map((run) => {
    const history = run.body.conversation_history;
    const instructions = run.body.instructions;
    return {
      id: run.id,
      status: run.status,
      createdAt: run.createdAt,
      updatedAt: run.updatedAt,
      input: run.input.slice(0, 200),
      instructions: typeof instructions === 'string' ? instructions.slice(0, 200) : null,
      historyLength: Array.isArray(history) ? history.length : 0,
      bodyBytes: Buffer.byteLength(JSON.stringify(run.body)),
    };
  });
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as FakeChildOptions;
  const server = new FakeHermesServer({
    keepaliveMs: options.keepaliveMs ?? 15_000,
    // Recorded requests would keep every multi-megabyte history body in memory.
    recordRequests: false,
    defaultScenario: options.defaultScenario,
  });
  const url = await server.start(0, '127.0.0.1');
  const send = (reply: FakeReply): void => {
    process.send?.(reply);
  };
  process.on('message', (message: FakeRequest) => {
    switch (message.type) {
      case 'runs':
        send({ id: message.id, type: 'runs', runs: runInfo(server) });
        break;
      case 'reset':
        server.reset();
        send({ id: message.id, type: 'ok' });
        break;
      case 'stop':
        void server.stop().then(() => process.exit(0));
        break;
    }
  });
  // The harness went away (even killed): so does the fake.
  process.on('disconnect', () => void server.stop().then(() => process.exit(0)));
  send({ id: 0, type: 'ready', url });
}

main().catch((error: unknown) => {
  console.error('fake-hermes child failed:', error);
  process.exit(1);
});
