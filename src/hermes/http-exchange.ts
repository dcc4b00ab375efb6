import { IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { agentFor } from './http-agents';

export interface HttpExchange {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  /** Serialised already (one string, or pieces written in order); sent with its byte length. */
  body?: string | readonly Buffer[];
  /** Covers the whole exchange, the answer's body included. */
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Raised when `timeoutMs` passes before the answer is complete. */
export class HttpTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * One HTTP request and its whole answer, on node:http. Not `fetch`: a run's history can be
 * megabytes, and a Buffer written to the socket in one go costs a fraction of what fetch's
 * web-stream body does (about 4 ms instead of 20–50 ms for 3 MB here), on the path that
 * delays `run.started`.
 */
export function exchange(call: HttpExchange): Promise<HttpAnswer> {
  const url = new URL(call.url);
  const body =
    call.body === undefined || typeof call.body !== 'string'
      ? call.body
      : [Buffer.from(call.body, 'utf8')];
  const length = body?.reduce((sum, piece) => sum + piece.length, 0);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const request = send(url, {
      method: call.method,
      agent: agentFor(url),
      headers: body ? { ...call.headers, 'Content-Length': String(length) } : call.headers,
    });
    const timer = setTimeout(
      () => request.destroy(new HttpTimeoutError(`no complete answer in ${call.timeoutMs} ms`)),
      call.timeoutMs,
    );
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    request.on('error', fail);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    // Written before the request has its socket (which it gets on a later tick, even a kept-alive
    // one), the pieces wait in the request and leave with the headers in one writev: no copy
    // of a history of megabytes, and no system call per piece.
    for (const piece of body ?? []) request.write(piece);
    request.end();
  });
}
