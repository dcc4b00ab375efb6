import { LoggerService } from '@nestjs/common';
import { ErrorEvent, EventSource, FetchLike, FetchLikeResponse, ReaderLike } from 'eventsource';
import { Observable } from 'rxjs';
import { HermesRunEvent, isTerminalEvent, parseHermesEvent } from './hermes-events';
import { nodeHttpFetch } from './sse-transport';
import {
  errorMessage,
  HermesStreamIdleError,
  HermesStreamLostError,
  HermesStreamLostReason,
} from './hermes.errors';

/** Counters shared by every stream of a client, for metrics and tests. */
export class HermesStreamStats {
  opened = 0;
  completed = 0;
  lost = 0;
  events = 0;
  /** `data` frames that were not a JSON object with an `event` (skipped, never thrown). */
  skippedLines = 0;
}

/**
 * How the stream is fetched: {@link nodeHttpFetch} by default; WHATWG `fetch` (or a test's
 * stand-in) fits too.
 */
export type StreamFetch = (
  url: string | URL,
  init: { headers: Record<string, string>; signal?: AbortSignal } & Record<string, unknown>,
) => Promise<FetchLikeResponse>;

export interface HermesEventStreamOptions {
  profile: string;
  runId: string;
  url: string;
  /** Extra request headers (`Authorization`). Never logged. */
  headers: Record<string, string>;
  /** Error with {@link HermesStreamIdleError} after this long without a byte (keepalives count). */
  idleTimeoutMs: number;
  fetch?: StreamFetch;
  stats?: HermesStreamStats;
  logger?: Pick<LoggerService, 'log' | 'warn' | 'debug'>;
}

/**
 * A cold Observable of one run's events: each subscription opens its own SSE connection
 * (remember the upstream allows one consumer per run), unsubscribing closes it.
 *
 * Completes after `run.completed`, `run.failed` or `run.cancelled` (emitted first). Errors with
 * {@link HermesStreamLostError} when the stream ends, breaks or is refused without one of them,
 * and with {@link HermesStreamIdleError} after `idleTimeoutMs` of silence. Never reconnects.
 */
export function hermesRunEvents(options: HermesEventStreamOptions): Observable<HermesRunEvent> {
  const { profile, runId, url, headers, idleTimeoutMs } = options;
  const baseFetch: StreamFetch = options.fetch ?? nodeHttpFetch;
  const stats = options.stats ?? new HermesStreamStats();
  const logger = options.logger;

  return new Observable<HermesRunEvent>((subscriber) => {
    let events = 0;
    let skipped = 0;
    let opened = false;
    let finished = false;
    let source: EventSource | undefined;
    const label = `run ${runId} (${profile})`;

    const finish = (): void => {
      finished = true;
      clearTimeout(idleTimer);
      source?.close();
    };

    const lose = (error: HermesStreamLostError): void => {
      if (finished) return;
      finish();
      stats.lost++;
      logger?.warn(`Event stream of ${label} lost: ${error.message}${skippedNote()}`);
      subscriber.error(error);
    };

    const skippedNote = (): string => (skipped > 0 ? `; ${skipped} non-JSON lines skipped` : '');

    // Any byte (an event, a `: keepalive` comment) proves the stream alive.
    const idleTimer = setTimeout(
      () => lose(new HermesStreamIdleError(profile, runId, events, idleTimeoutMs)),
      idleTimeoutMs,
    );
    const touch = (): void => {
      if (!finished) idleTimer.refresh();
    };

    const streamFetch: FetchLike = async (input, init) => {
      const response = await baseFetch(input, {
        ...init,
        headers: { ...init.headers, ...headers },
        signal: init.signal as AbortSignal | undefined,
      });
      touch();
      return withActivityProbe(response, touch);
    };

    try {
      source = new EventSource(url, { fetch: streamFetch });
    } catch (error) {
      lose(new HermesStreamLostError(profile, runId, 'connection_error', 0, errorMessage(error)));
      return;
    }
    const eventSource = source;

    eventSource.onopen = () => {
      opened = true;
      stats.opened++;
      logger?.log(`Event stream of ${label} open`);
    };

    eventSource.onmessage = (message: MessageEvent) => {
      if (finished) return;
      const data: unknown = message.data;
      const event = typeof data === 'string' ? parseHermesEvent(data, runId) : null;
      if (event === null) {
        skipped++;
        stats.skippedLines++;
        return;
      }
      events++;
      stats.events++;
      subscriber.next(event);
      if (isTerminalEvent(event) && !finished) {
        finish();
        stats.completed++;
        logger?.log(`Event stream of ${label} ended with ${event.type} after ${events} events`);
        if (skipped > 0) logger?.debug?.(`Event stream of ${label}:${skippedNote()}`);
        subscriber.complete();
      }
    };

    eventSource.onerror = (error: ErrorEvent) => {
      const { reason, detail, status } = classifyError(error, opened);
      lose(new HermesStreamLostError(profile, runId, reason, events, detail, status));
      // `eventsource` arms its reconnect timer after this handler returns; closing once more
      // clears it (the closed source would not reconnect, but the timer would linger).
      queueMicrotask(() => eventSource.close());
    };

    return () => {
      if (finished) return;
      finish();
      logger?.log(
        `Event stream of ${label} closed by its subscriber after ${events} events${skippedNote()}`,
      );
    };
  });
}

function classifyError(
  error: ErrorEvent,
  opened: boolean,
): { reason: HermesStreamLostReason; detail?: string; status?: number } {
  // `code` is set only when the upstream answered something other than an event stream.
  if (error.code !== undefined) {
    const reason = error.code === 404 ? 'not_found' : 'http_error';
    return { reason, detail: error.message, status: error.code };
  }
  // After the stream was open, an error without a message is the response ending cleanly.
  if (opened && !error.message) return { reason: 'ended', detail: 'no terminal event' };
  return { reason: 'connection_error', detail: error.message };
}

/** Hands `eventsource` the response with a body reader that reports every chunk read. */
function withActivityProbe(response: FetchLikeResponse, onChunk: () => void): FetchLikeResponse {
  const body = response.body as { getReader(): ReaderLike } | null;
  return {
    url: response.url,
    status: response.status,
    redirected: response.redirected,
    headers: response.headers,
    body: body && {
      getReader(): ReaderLike {
        const reader = body.getReader();
        return {
          async read() {
            const result = await reader.read();
            onChunk();
            return result;
          },
          cancel: () => reader.cancel(),
        };
      },
    },
  };
}
