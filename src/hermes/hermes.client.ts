import { Injectable, Logger } from '@nestjs/common';
import { Observable } from 'rxjs';
import { encodeJsonBody } from '../common/json/encoded-json';
import { AppConfig } from '../config/app-config';
import { HermesProfile } from './hermes-profile';
import { HermesProfiles } from './hermes-profiles';
import { HermesRunEvent } from './hermes-events';
import { hermesRunEvents, HermesStreamStats } from './hermes-event-stream';
import { exchange, HttpAnswer, HttpTimeoutError } from './http-exchange';
import {
  HermesRunCreated,
  HermesRunRequest,
  HermesRunStatus,
  HermesStopResult,
  isFinalState,
  parseObject,
  parseRunStatus,
} from './hermes-runs';
import {
  errorMessage,
  HermesConnectionError,
  HermesErrorCode,
  HermesHttpError,
  HermesProtocolError,
  HermesTimeoutError,
} from './hermes.errors';

export type {
  HermesHistoryMessage,
  HermesRunCreated,
  HermesRunRequest,
  HermesRunState,
  HermesRunStatus,
  HermesStopResult,
} from './hermes-runs';
export { HERMES_FINAL_RUN_STATES, HERMES_RUN_STATES } from './hermes-runs';

export interface HermesUpstreamHealth {
  status: 'up' | 'down';
  url: string;
  latencyMs: number;
  error?: string;
}

export interface CreateRunOptions {
  /**
   * Attempts in all (default 1). Only connection failures and timeouts are retried, with the same
   * idempotency key, so a retry never starts a second run.
   */
  attempts?: number;
}

interface HttpCall {
  operation: string;
  method: 'GET' | 'POST';
  path: string;
  body?: object;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

type OperationError =
  HermesHttpError | HermesProtocolError | HermesConnectionError | HermesTimeoutError;

const MAX_ERROR_BODY = 2000;
const MAX_HEALTH_TIMEOUT_MS = 5000;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The one way the gateway talks to a Hermes upstream. Every method takes a profile name
 * (unknown: {@link UnknownProfileError}) and fails with a typed {@link HermesError}.
 */
@Injectable()
export class HermesClient {
  private readonly logger = new Logger(HermesClient.name);
  /** Counters of every event stream this client opened. */
  readonly streamStats = new HermesStreamStats();
  /** Failed requests, by operation and error code (for metrics). */
  readonly failures = new Map<string, Map<HermesErrorCode, number>>();

  constructor(
    private readonly profiles: HermesProfiles,
    private readonly config: AppConfig,
  ) {}

  /** `POST /v1/runs` with an `Idempotency-Key` (1–255 visible ASCII characters). */
  async createRun(
    profileName: string,
    request: HermesRunRequest,
    idempotencyKey: string,
    options: CreateRunOptions = {},
  ): Promise<HermesRunCreated> {
    const profile = this.profiles.get(profileName);
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new RangeError('The idempotency key must be 1–255 visible ASCII characters');
    }
    const attempts = Math.max(1, options.attempts ?? 1);
    const call: HttpCall = {
      operation: 'create run',
      method: 'POST',
      path: '/v1/runs',
      body: request,
      headers: { 'Idempotency-Key': idempotencyKey },
    };
    let answer: HttpAnswer | undefined;
    for (let attempt = 1; answer === undefined; attempt++) {
      try {
        answer = await this.request(profile, call);
      } catch (error) {
        const transient =
          error instanceof HermesConnectionError || error instanceof HermesTimeoutError;
        if (!transient || attempt >= attempts) throw error;
        this.logger.warn(`Retrying create run on ${profile.name} (${error.message})`);
      }
    }
    if (answer.status < 200 || answer.status > 299)
      throw this.failed(httpError(profile, call, answer));
    const body = parseObject(answer.text);
    const runId = body?.['run_id'];
    if (typeof runId !== 'string' || runId === '') {
      throw this.failed(
        new HermesProtocolError(profile.name, call.operation, 'the answer has no run_id'),
      );
    }
    const status = typeof body?.['status'] === 'string' ? body['status'] : 'started';
    const replayed =
      body?.['replayed'] === true || answer.headers['idempotency-replayed'] === 'true';
    this.logger.log(`Run ${runId} ${replayed ? 'replayed' : 'created'} on ${profile.name}`);
    return { runId, status, replayed };
  }

  /** `GET /v1/runs/{id}`. Resolves `null` for an unknown run (404); throws if the upstream fails. */
  async getRun(profileName: string, runId: string): Promise<HermesRunStatus | null> {
    const profile = this.profiles.get(profileName);
    const call: HttpCall = { operation: 'get run', method: 'GET', path: runPath(runId) };
    const answer = await this.request(profile, call);
    if (answer.status === 404) return null;
    if (answer.status < 200 || answer.status > 299)
      throw this.failed(httpError(profile, call, answer));
    return parseRunStatus(profile, call.operation, answer.text);
  }

  /**
   * The run's events as a cold Observable (see {@link hermesRunEvents}): subscribe once per run,
   * the upstream serves one consumer. An unknown profile throws at call time, not on subscribe.
   */
  runEvents(profileName: string, runId: string): Observable<HermesRunEvent> {
    const profile = this.profiles.get(profileName);
    return hermesRunEvents({
      profile: profile.name,
      runId,
      url: `${profile.baseUrl}${runPath(runId)}/events`,
      headers: profile.authHeaders(),
      idleTimeoutMs: this.config.hermes.streamIdleTimeoutMs,
      stats: this.streamStats,
      logger: this.logger,
    });
  }

  /** `POST /v1/runs/{id}/stop`; 409 and 404 are outcomes, not errors. */
  async stopRun(profileName: string, runId: string): Promise<HermesStopResult> {
    const profile = this.profiles.get(profileName);
    const call: HttpCall = {
      operation: 'stop run',
      method: 'POST',
      path: `${runPath(runId)}/stop`,
    };
    const answer = await this.request(profile, call);
    if (answer.status === 404) return { outcome: 'unknown_run' };
    if (answer.status === 409) return { outcome: 'not_active' };
    if (answer.status < 200 || answer.status > 299)
      throw this.failed(httpError(profile, call, answer));
    const body = parseObject(answer.text);
    const status = body?.['status'];
    if (typeof status === 'string' && isFinalState(status)) {
      return { outcome: 'finished', run: parseRunStatus(profile, call.operation, answer.text) };
    }
    this.logger.log(`Run ${runId} stopping on ${profile.name}`);
    return { outcome: 'stopping' };
  }

  /**
   * `POST /v1/runs/{id}/approval` `{ choice, request_id? }`. The upstream's 409 (nothing
   * pending) and 404 (unknown run) are an outcome, `nothing_pending`, not errors.
   */
  async respondToApproval(
    profileName: string,
    runId: string,
    choice: string,
    requestId?: string,
  ): Promise<'answered' | 'nothing_pending'> {
    const profile = this.profiles.get(profileName);
    const call: HttpCall = {
      operation: 'respond to approval',
      method: 'POST',
      path: `${runPath(runId)}/approval`,
      body: requestId === undefined ? { choice } : { choice, request_id: requestId },
    };
    const answer = await this.request(profile, call);
    if (answer.status === 404 || answer.status === 409) return 'nothing_pending';
    if (answer.status < 200 || answer.status > 299)
      throw this.failed(httpError(profile, call, answer));
    return 'answered';
  }

  /** `GET /health`. Never throws for upstream trouble: a failure is `down` with its reason. */
  async health(profileName: string): Promise<HermesUpstreamHealth> {
    const profile = this.profiles.get(profileName);
    const started = Date.now();
    const call: HttpCall = {
      operation: 'health',
      method: 'GET',
      path: '/health',
      timeoutMs: Math.min(this.config.hermes.requestTimeoutMs, MAX_HEALTH_TIMEOUT_MS),
    };
    const result = (status: 'up' | 'down', error?: string): HermesUpstreamHealth => ({
      status,
      url: profile.displayUrl,
      latencyMs: Date.now() - started,
      ...(error === undefined ? {} : { error }),
    });
    try {
      const answer = await this.request(profile, call);
      if (answer.status >= 200 && answer.status <= 299) return result('up');
      return result('down', `HTTP ${answer.status}`);
    } catch (error) {
      return result('down', errorMessage(error));
    }
  }

  private failed<E extends OperationError>(error: E): E {
    let byCode = this.failures.get(error.operation);
    if (!byCode) this.failures.set(error.operation, (byCode = new Map<HermesErrorCode, number>()));
    byCode.set(error.code, (byCode.get(error.code) ?? 0) + 1);
    return error;
  }

  private async request(profile: HermesProfile, call: HttpCall): Promise<HttpAnswer> {
    const timeoutMs = call.timeoutMs ?? this.config.hermes.requestTimeoutMs;
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...call.headers,
      ...profile.authHeaders(),
    };
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await exchange({
        method: call.method,
        url: `${profile.baseUrl}${call.path}`,
        headers,
        body: call.body === undefined ? undefined : encodeJsonBody(call.body),
        timeoutMs,
      });
    } catch (error) {
      if (error instanceof HttpTimeoutError) {
        throw this.failed(new HermesTimeoutError(profile.name, call.operation, timeoutMs));
      }
      throw this.failed(new HermesConnectionError(profile.name, call.operation, error));
    }
  }
}

function runPath(runId: string): string {
  return `/v1/runs/${encodeURIComponent(runId)}`;
}

function httpError(profile: HermesProfile, call: HttpCall, answer: HttpAnswer): HermesHttpError {
  const body =
    answer.text.length > MAX_ERROR_BODY ? `${answer.text.slice(0, MAX_ERROR_BODY)}…` : answer.text;
  return new HermesHttpError(profile.name, call.operation, answer.status, body);
}
