import { Agent, request } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { SseParser } from '../../test/fake-hermes/sse-reader';

/** Keep-alive for the small create requests, as any HTTP client pool would. */
const createAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * `POST /v1/runs` on the fake, straight from the client: the floor skips the gateway. A pooled
 * connection the fake closed as it was reused (its keep-alive ran out while this busy process
 * was away) never carried the request: it is sent again, as the gateway does.
 */
export function createUpstreamRun(fakeUrl: string, input: string, attempt = 0): Promise<string> {
  const body = JSON.stringify({ input });
  return new Promise((resolve, reject) => {
    const req = request(
      `${fakeUrl}/v1/runs`,
      {
        method: 'POST',
        agent: createAgent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(text) as { run_id?: string };
            if (res.statusCode === 202 && parsed.run_id) resolve(parsed.run_id);
            else reject(new Error(`POST /v1/runs: ${res.statusCode} ${text}`));
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (req.reusedSocket && error.code === 'ECONNRESET' && attempt < 2) {
        resolve(createUpstreamRun(fakeUrl, input, attempt + 1));
      } else {
        reject(error);
      }
    });
    req.end(body);
  });
}

/**
 * Reads one run's event stream (`GET /v1/runs/{id}/events`) over its own connection and hands
 * each parsed event to `onEvent`; resolves when the response ends. This is the least a client
 * can do to get the same deltas: one HTTP response, the SSE line parser, `JSON.parse`.
 */
export function readUpstreamRun(
  fakeUrl: string,
  runId: string,
  onEvent: (event: Record<string, unknown>) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${fakeUrl}/v1/runs/${runId}/events`, {
      method: 'GET',
      agent: false,
      headers: { Accept: 'text/event-stream' },
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET events of ${runId}: ${res.statusCode}`));
        return;
      }
      const decoder = new StringDecoder('utf8');
      const parser = new SseParser((item) => {
        if (item.kind === 'data') onEvent(JSON.parse(item.data) as Record<string, unknown>);
      });
      res.on('data', (chunk: Buffer) => parser.push(decoder.write(chunk)));
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
