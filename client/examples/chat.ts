// One run on a session, printed as it streams: `npm run example -- [session-id]`.
import { readFileSync } from 'node:fs';
import { ChatRunClient } from '@hermes-chat-gateway/client';

const url = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8648';
// `npm start` keeps its generated token in data/auth-token; `npm run demo` prints its own.
const token = process.env.GATEWAY_TOKEN ?? readFileSync('data/auth-token', 'utf8').trim();
const sessionId = process.argv[2] ?? 'readme-example';

async function main(): Promise<void> {
  const client = new ChatRunClient({ url, token });
  // Every event of the session once, in seq order, across reconnects.
  client.onSnapshot((snapshot) => console.log(`${snapshot.messages.length} messages so far`));
  client.on('message.delta', (event) => process.stdout.write(event.delta));
  const finished = new Promise<void>((resolve, reject) => {
    // Done when nothing is queued behind it (another client may have queued runs too).
    client.on('run.completed', (event) => {
      if (event.queue_remaining === 0) resolve();
    });
    client.on('run.failed', (event) => reject(new Error(`${event.code}: ${event.error}`)));
  });

  await client.connect();
  await client.resume(sessionId); // join the session and catch up from the last seq
  // A queue_id is generated for each run, so a resend after a reconnect never runs twice.
  const ack = await client.run('Hello!', { sessionId });
  console.log(`run ${ack.status}, queue ${ack.queue_length}`);
  await finished;
  console.log(`\nlast seq ${client.lastSeq(sessionId)}`);
  client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
