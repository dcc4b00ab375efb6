import type { FetchLikeResponse, ReaderLike } from 'eventsource';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { agentFor } from './http-agents';

/** How many times a stream request found its pooled connection closed before it is given up. */
const MAX_STALE_RETRIES = 2;

/**
 * The transport `eventsource` reads a run's stream through: a GET on node:http, its body handed
 * over chunk by chunk. The package's default, WHATWG `fetch`, costs several times more per
 * stream and per chunk (undici's web streams); the parsing of the stream stays the package's.
 */
export const nodeHttpFetch = (
  url: string | URL,
  init: { headers: Record<string, string>; signal?: AbortSignal },
): Promise<FetchLikeResponse> =>
  new Promise<FetchLikeResponse>((resolve, reject) => {
    const target = typeof url === 'string' ? new URL(url) : url;
    const https = target.protocol === 'https:';
    const { signal } = init;
    let request: ClientRequest | undefined;
    const aborted = (): Error =>
      Object.assign(new Error('The stream was aborted'), { name: 'AbortError' });
    const abort = (): void => {
      request?.destroy(aborted());
    };
    if (signal?.aborted) return reject(aborted());
    signal?.addEventListener('abort', abort, { once: true });
    const send = (attempt: number): void => {
      const sent = (https ? httpsRequest : httpRequest)(target, {
        method: 'GET',
        headers: init.headers,
        agent: agentFor(target),
      });
      request = sent;
      let answered = false;
      sent.on('error', (error: NodeJS.ErrnoException) => {
        // A pooled connection the upstream closed as it was being reused (its keep-alive ran
        // out while this side was busy): the request never reached it, so it is sent again.
        const stale = !answered && sent.reusedSocket && error.code === 'ECONNRESET';
        if (stale && attempt < MAX_STALE_RETRIES && !signal?.aborted) return send(attempt + 1);
        reject(error);
      });
      sent.once('response', (response) => {
        answered = true;
        resolve({
          url: target.href,
          status: response.statusCode ?? 0,
          redirected: false,
          headers: { get: (name) => headerValue(response.headers, name) },
          body: { getReader: () => new ResponseReader(response) },
        });
      });
      sent.end();
    };
    send(0);
  });

function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

type ReadResult = Awaited<ReturnType<ReaderLike['read']>>;

/**
 * A pull reader over a response body: chunks wait here (the socket paused) until `eventsource`
 * asks for the next one. A body that breaks off before its end is an error, as with `fetch`.
 */
class ResponseReader implements ReaderLike {
  private readonly chunks: Buffer[] = [];
  private waiting: {
    resolve: (result: ReadResult) => void;
    reject: (error: Error) => void;
  } | null = null;
  private ended = false;
  private failure: Error | null = null;

  constructor(private readonly response: IncomingMessage) {
    response.on('data', (chunk: Buffer) => {
      if (this.waiting) return this.deliver({ done: false, value: chunk });
      this.chunks.push(chunk);
      response.pause();
    });
    response.once('end', () => {
      this.ended = true;
      if (this.waiting && this.chunks.length === 0) this.deliver({ done: true });
    });
    response.once('error', (error) => this.fail(error));
    response.once('close', () => {
      if (!this.ended) this.fail(new Error('The connection closed before the stream ended'));
    });
  }

  read(): Promise<ReadResult> {
    const chunk = this.chunks.shift();
    if (chunk) {
      if (this.chunks.length === 0) this.response.resume();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  cancel(): Promise<void> {
    this.response.destroy();
    return Promise.resolve();
  }

  private deliver(result: ReadResult): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve(result);
  }

  private fail(error: Error): void {
    if (this.failure || this.ended) return;
    this.failure = error;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(error);
  }
}
