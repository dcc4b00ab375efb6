import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

import { FakeRun, type RunHost, type RunStatus } from './fake-run';
import {
  BodyTooLargeError,
  bearerMatches,
  headerValue,
  isValidIdempotencyKey,
  parseJson,
  readBody,
  sameJson,
  sendError,
  sendJson,
  type ParsedJson,
} from './http-util';
import {
  extractDirectives,
  parseScenarioSpec,
  resolveScenario,
  ScenarioError,
  type Scenario,
  type ScenarioInput,
} from './scenario';

/** A scenario given as an object, or as a spec string (`"tools"`, `"deltas:3,interval:5"`, JSON). */
export type ScenarioSource = ScenarioInput | string;

export interface FakeHermesOptions {
  /** When set, every request but `/health` needs `Authorization: Bearer <apiKey>` (else 401). */
  apiKey?: string;
  /** Silence after which a `: keepalive` comment is written to an open stream (default 30 000). */
  keepaliveMs?: number;
  /** The `model` reported when the create request names none (default `hermes-agent`). */
  model?: string;
  /** Finished runs kept at most (oldest forgotten first; default 10 000). */
  maxRuns?: number;
  /** Finished runs are forgotten this long after they ended (default 1 h, like the upstream). */
  finishedRunTtlMs?: number;
  /** A stream nobody subscribed to is dropped after this (default 300 s, like the upstream). */
  unconsumedStreamTtlMs?: number;
  /** Record every request in `requests` (default true), keeping the last `maxRecordedRequests`. */
  recordRequests?: boolean;
  maxRecordedRequests?: number;
  /** Keep every event of every run in `run.events` (default false: memory grows with deltas). */
  recordEvents?: boolean;
  /** The scenario layer under every run (see `setDefaultScenario`). */
  defaultScenario?: ScenarioSource;
  /** A line per answered request (e.g. `console.log` for the CLI). */
  log?: (line: string) => void;
}

export interface RecordedRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body, the raw text if it is not JSON, or null when empty. */
  readonly body: unknown;
  /** `Date.now()` when the body had been read. */
  readonly receivedAt: number;
}

export interface HistoryEntry {
  readonly role: string;
  readonly content: string;
}

/** A validated `POST /v1/runs`, as `onCreate` sees it. */
export interface CreateRunRequest {
  readonly input: string;
  readonly sessionId?: string;
  readonly model?: string;
  readonly instructions?: string;
  readonly history: readonly HistoryEntry[];
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers: IncomingHttpHeaders;
}

/** The header that chooses a scenario for one `POST /v1/runs` (a spec string or JSON). */
export const SCENARIO_HEADER = 'x-fake-scenario';

const APPROVAL_CHOICES = new Set(['once', 'session', 'always', 'deny']);
const APPROVAL_ALIASES: Readonly<Record<string, string>> = {
  approve: 'once',
  approved: 'once',
  allow: 'once',
};

interface Waiter {
  readonly check: () => boolean;
  readonly settle: (error?: Error) => void;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A fake of the Hermes Agent API server (`/v1/runs` and friends) over real HTTP, with the wire
 * format of `docs/hermes-upstream.md`. Each run plays a scenario; see README.md.
 */
export class FakeHermesServer {
  /** Mutable at any time. */
  apiKey: string | undefined;
  /** Called for every admitted create; its scenario goes over the default, under the others. */
  onCreate: ((request: CreateRunRequest) => ScenarioSource | undefined) | undefined;
  /** Every request (bounded by `maxRecordedRequests`). */
  readonly requests: RecordedRequest[] = [];
  /** Runs started since `start` (or `reset`), including forgotten ones. */
  runsCreated = 0;

  private readonly model: string;
  private readonly maxRuns: number;
  private readonly finishedRunTtlMs: number;
  private readonly unconsumedStreamTtlMs: number;
  private readonly recordRequests: boolean;
  private readonly maxRecordedRequests: number;
  private readonly log: ((line: string) => void) | undefined;
  private defaultScenario: ScenarioSource | undefined;
  private readonly nextScenarios: ScenarioSource[] = [];

  private readonly runs = new Map<string, FakeRun>();
  private readonly idempotency = new Map<
    string,
    { readonly body: unknown; readonly runId: string }
  >();
  private readonly attached = new Set<FakeRun>();
  private readonly waiters = new Set<Waiter>();
  private keepaliveSilenceMs: number;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private server: Server | null = null;
  private baseUrl: string | null = null;
  private readonly runHost: RunHost;

  constructor(options: FakeHermesOptions = {}) {
    this.apiKey = options.apiKey;
    this.keepaliveSilenceMs = options.keepaliveMs ?? 30_000;
    this.model = options.model ?? 'hermes-agent';
    this.maxRuns = options.maxRuns ?? 10_000;
    this.finishedRunTtlMs = options.finishedRunTtlMs ?? 3_600_000;
    this.unconsumedStreamTtlMs = options.unconsumedStreamTtlMs ?? 300_000;
    this.recordRequests = options.recordRequests ?? true;
    this.maxRecordedRequests = options.maxRecordedRequests ?? 10_000;
    this.log = options.log;
    this.defaultScenario = options.defaultScenario;
    this.runHost = {
      recordEvents: options.recordEvents ?? false,
      streamOpened: (run) => {
        this.attached.add(run);
        this.armKeepalive();
        this.changed();
      },
      streamClosed: (run) => {
        this.attached.delete(run);
        if (this.attached.size === 0) this.disarmKeepalive();
        this.changed();
      },
      forget: (run) => {
        this.forgetRun(run.id);
      },
      changed: () => this.changed(),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle
  // -------------------------------------------------------------------------------------------

  /** Listens (port 0 = any free port) and resolves with the base URL, e.g. `http://127.0.0.1:41234`. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) throw new Error('fake-hermes: already started');
    const server = createServer((req, res) => {
      void this.handle(req, res);
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.baseUrl = `http://${hostPart}:${address.port}`;
    this.sweepTimer = setInterval(() => this.sweep(), 1000);
    this.sweepTimer.unref();
    return this.baseUrl;
  }

  /** Stops every run, breaks every connection and closes the listener. */
  async stop(): Promise<void> {
    for (const run of this.runs.values()) run.dispose();
    this.runs.clear();
    this.attached.clear();
    this.clearTimers();
    for (const waiter of [...this.waiters]) waiter.settle(new Error('fake-hermes: server stopped'));
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The base URL; throws before `start`. */
  get url(): string {
    if (!this.baseUrl) throw new Error('fake-hermes: not started');
    return this.baseUrl;
  }

  /** Forgets runs, requests, idempotency keys and queued scenarios (the default scenario stays). */
  reset(): void {
    for (const run of this.runs.values()) run.dispose();
    this.runs.clear();
    this.idempotency.clear();
    this.attached.clear();
    this.nextScenarios.length = 0;
    this.requests.length = 0;
    this.runsCreated = 0;
    this.changed();
  }

  // -------------------------------------------------------------------------------------------
  // Scenarios
  // -------------------------------------------------------------------------------------------

  /** The scenario layer under every run (undefined = the built-in defaults). */
  setDefaultScenario(scenario: ScenarioSource | undefined): void {
    resolveScenario(scenario); // fail fast on a bad spec or preset
    this.defaultScenario = scenario;
  }

  /** Queues scenarios; each successful or refused create (not a replay) takes the next one. */
  setNextScenario(...scenarios: ScenarioSource[]): void {
    for (const s of scenarios) resolveScenario(s); // fail fast on a bad spec or preset
    this.nextScenarios.push(...scenarios);
  }

  /** Layers, later wins: default, onCreate, next queued, X-Fake-Scenario header, input directives. */
  private chooseScenario(request: CreateRunRequest): Scenario {
    const header = headerValue(request.headers, SCENARIO_HEADER);
    const headerLayer =
      header !== undefined && header.trim() !== '' ? parseScenarioSpec(header) : undefined;
    const directives = extractDirectives(request.input);
    const hooked = this.onCreate?.(request);
    const scenario = resolveScenario(
      this.defaultScenario,
      hooked,
      this.nextScenarios[0],
      headerLayer,
      ...directives,
    );
    this.nextScenarios.shift();
    return scenario;
  }

  // -------------------------------------------------------------------------------------------
  // Inspection
  // -------------------------------------------------------------------------------------------

  getRun(runId: string): FakeRun | undefined {
    return this.runs.get(runId);
  }

  /** The most recently created run still known. */
  get lastRun(): FakeRun | undefined {
    let last: FakeRun | undefined;
    for (const run of this.runs.values()) last = run;
    return last;
  }

  listRuns(): FakeRun[] {
    return [...this.runs.values()];
  }

  /** Event streams currently connected. */
  get openStreams(): number {
    return this.attached.size;
  }

  /** Recorded requests whose path starts with `pathPrefix` (and with `method`, if given). */
  requestsTo(pathPrefix: string, method?: string): RecordedRequest[] {
    return this.requests.filter(
      (r) => r.path.startsWith(pathPrefix) && (!method || r.method === method.toUpperCase()),
    );
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Resolves as soon as `condition()` holds (re-checked on every state change); rejects after the timeout. */
  waitFor(condition: () => boolean, timeoutMs = 5000, what = 'a condition'): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          waiter.settle(
            new Error(`fake-hermes: timed out after ${timeoutMs} ms waiting for ${what}`),
          ),
        timeoutMs,
      );
      const waiter: Waiter = {
        check: condition,
        settle: (error) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          if (error) reject(error);
          else resolve();
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Waits until the run has one of `statuses` (e.g. `'completed'`). */
  waitForRunStatus(
    runId: string,
    statuses: RunStatus | readonly RunStatus[],
    timeoutMs = 5000,
  ): Promise<void> {
    const wanted: readonly RunStatus[] = typeof statuses === 'string' ? [statuses] : statuses;
    return this.waitFor(
      () => {
        const status = this.runs.get(runId)?.status;
        return status !== undefined && wanted.includes(status);
      },
      timeoutMs,
      `run ${runId} to be ${wanted.join('|')}`,
    );
  }

  /** Waits until `count` requests to `pathPrefix` (and `method`) have been recorded. */
  waitForRequests(pathPrefix: string, method?: string, count = 1, timeoutMs = 5000): Promise<void> {
    return this.waitFor(
      () => this.requestsTo(pathPrefix, method).length >= count,
      timeoutMs,
      `${count} ${method ?? ''} request(s) to ${pathPrefix}`,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Control
  // -------------------------------------------------------------------------------------------

  /** Makes a run unknown (404 everywhere) and stops it. */
  forgetRun(runId: string): boolean {
    const run = this.runs.get(runId);
    if (!run) return false;
    this.runs.delete(runId);
    run.dispose();
    this.changed();
    return true;
  }

  /** As if the upstream restarted: every live run becomes `interrupted` and its stream breaks. */
  simulateRestart(): void {
    for (const run of this.runs.values()) {
      if (!run.finished) run.interrupt();
      else run.dispose();
    }
    this.changed();
  }

  /** Forgets expired runs and streams nobody claimed; called every second. */
  sweep(now = Date.now()): void {
    for (const run of this.runs.values()) {
      if (run.finished && now - run.updatedAt * 1000 > this.finishedRunTtlMs)
        this.forgetRun(run.id);
      if (run.stream === 'unclaimed' && now - run.createdAt * 1000 > this.unconsumedStreamTtlMs)
        run.expireStream();
    }
    this.enforceRunCap();
    for (const [key, entry] of this.idempotency)
      if (!this.runs.has(entry.runId)) this.idempotency.delete(key);
  }

  private enforceRunCap(): void {
    if (this.runs.size <= this.maxRuns) return;
    for (const run of this.runs.values()) {
      if (this.runs.size <= this.maxRuns) break;
      if (run.finished) this.forgetRun(run.id);
    }
  }

  private changed(): void {
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) {
      let done: boolean;
      try {
        done = waiter.check();
      } catch (err: unknown) {
        waiter.settle(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      if (done) waiter.settle();
    }
  }

  /** Silence after which an open stream gets `: keepalive` (mutable at any time). */
  get keepaliveMs(): number {
    return this.keepaliveSilenceMs;
  }

  set keepaliveMs(ms: number) {
    this.keepaliveSilenceMs = ms;
    if (this.keepaliveTimer) {
      this.disarmKeepalive();
      this.armKeepalive();
    }
  }

  /** One timer for all open streams, while any is open; it ticks at a fifth of the silence. */
  private armKeepalive(): void {
    if (this.keepaliveTimer) return;
    const period = Math.min(1000, Math.max(5, Math.floor(this.keepaliveSilenceMs / 5)));
    this.keepaliveTimer = setInterval(() => {
      const now = performance.now();
      for (const run of this.attached) run.keepalive(now, this.keepaliveSilenceMs);
    }, period);
    this.keepaliveTimer.unref();
  }

  private disarmKeepalive(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
  }

  private clearTimers(): void {
    this.disarmKeepalive();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  // -------------------------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (this.log) {
      const log = this.log;
      res.on('finish', () => log(`${method} ${path} ${res.statusCode}`));
    }
    let raw: string;
    try {
      raw = await readBody(req);
    } catch (err: unknown) {
      if (err instanceof BodyTooLargeError) sendError(res, 413, err.message, 'request_too_large');
      else res.destroy();
      return;
    }
    const json = parseJson(raw);
    this.record({
      method,
      path,
      url,
      headers: { ...req.headers },
      body: json.ok ? json.value : raw.length ? raw : null,
      receivedAt: Date.now(),
    });
    try {
      await this.route(method, path, req, res, json);
    } catch (err: unknown) {
      const message = err instanceof Error ? err.message : String(err);
      sendError(res, 500, `fake-hermes internal error: ${message}`, 'internal_error');
    }
  }

  private record(request: RecordedRequest): void {
    if (!this.recordRequests) return;
    this.requests.push(request);
    const excess = this.requests.length - this.maxRecordedRequests;
    if (excess > this.maxRecordedRequests / 10) this.requests.splice(0, excess);
    this.changed();
  }

  private async route(
    method: string,
    path: string,
    req: IncomingMessage,
    res: ServerResponse,
    json: ParsedJson,
  ): Promise<void> {
    if (path === '/health' || path === '/v1/health') {
      if (method !== 'GET') return this.methodNotAllowed(res, 'GET');
      return sendJson(res, 200, { status: 'ok' });
    }
    if (
      this.apiKey !== undefined &&
      !bearerMatches(headerValue(req.headers, 'authorization'), this.apiKey)
    ) {
      return sendError(res, 401, 'Invalid API key', 'invalid_api_key');
    }
    if (path === '/v1/runs') {
      if (method !== 'POST') return this.methodNotAllowed(res, 'POST');
      return this.createRun(req, res, json);
    }
    const match = /^\/v1\/runs\/([^/]+)(?:\/(events|stop|approval|steer))?$/.exec(path);
    if (!match) return sendError(res, 404, `Not found: ${path}`, 'not_found');
    const runId = decodeURIComponent(match[1]);
    const action = match[2];
    const expected = action === undefined || action === 'events' ? 'GET' : 'POST';
    if (method !== expected) return this.methodNotAllowed(res, expected);
    const run = this.runs.get(runId);
    if (!run) return sendError(res, 404, `Run not found: ${runId}`, 'run_not_found');
    switch (action) {
      case undefined:
        return sendJson(res, 200, run.statusObject());
      case 'events':
        if (!run.attach(res)) sendError(res, 404, `Run not found: ${runId}`, 'run_not_found');
        return;
      case 'stop':
        return this.stopRun(run, res);
      case 'approval':
        return this.answerApproval(run, res, json);
      case 'steer':
        return this.steerRun(run, res, json);
    }
  }

  private methodNotAllowed(res: ServerResponse, allow: string): void {
    sendError(res, 405, 'Method not allowed', 'method_not_allowed', { Allow: allow });
  }

  private async createRun(
    req: IncomingMessage,
    res: ServerResponse,
    json: ParsedJson,
  ): Promise<void> {
    if (!json.ok || !isRecord(json.value))
      return sendError(res, 400, 'Invalid JSON', 'invalid_json');
    const body = json.value;
    const checked = validateCreate(body, req.headers);
    if (typeof checked === 'string') return sendError(res, 400, checked, 'invalid_request');

    const key = headerValue(req.headers, 'idempotency-key');
    if (key !== undefined) {
      if (!isValidIdempotencyKey(key)) {
        return sendError(
          res,
          400,
          'Idempotency-Key must be 1-255 visible ASCII characters',
          'invalid_idempotency_key',
        );
      }
      const known = this.idempotency.get(key);
      // Compared only when a key comes again: a first create (MBs of history) pays nothing.
      if (known && !sameJson(known.body, body)) {
        return sendError(
          res,
          409,
          'Idempotency-Key reused with a different body',
          'idempotency_key_conflict',
        );
      }
      if (known && this.runs.has(known.runId)) {
        return sendJson(
          res,
          202,
          { run_id: known.runId, status: 'started', replayed: true },
          { 'Idempotency-Replayed': 'true' },
        );
      }
    }

    let scenario: Scenario;
    try {
      scenario = this.chooseScenario(checked);
    } catch (err: unknown) {
      if (err instanceof ScenarioError)
        return sendError(res, 400, `fake-hermes scenario: ${err.message}`, 'invalid_fake_scenario');
      throw err;
    }
    if (scenario.createDelayMs > 0) {
      await sleep(scenario.createDelayMs);
      if (res.destroyed || !this.server) return;
    }
    if (scenario.createStatus !== null) return this.refuseCreate(res, scenario.createStatus);
    if (scenario.missingRunId) return sendJson(res, 202, { status: 'started', replayed: false });

    const id = `run_${randomBytes(16).toString('hex')}`;
    const run = new FakeRun(
      {
        id,
        scenario,
        input: checked.input,
        sessionId: checked.sessionId ?? id,
        model: checked.model ?? this.model,
        body,
      },
      this.runHost,
    );
    this.runs.set(run.id, run);
    this.runsCreated++;
    if (key !== undefined) this.idempotency.set(key, { body, runId: run.id });
    this.enforceRunCap();
    run.start();
    sendJson(res, 202, { run_id: run.id, status: 'started', replayed: false });
    this.changed();
  }

  private refuseCreate(res: ServerResponse, status: number): void {
    const retry = status === 429 || status === 503 ? { 'Retry-After': '1' } : undefined;
    if (status === 401) return sendError(res, 401, 'Invalid API key', 'invalid_api_key');
    if (status === 429)
      return sendError(res, 429, 'Too many concurrent runs', 'rate_limit_exceeded', retry);
    if (status === 503)
      return sendError(res, 503, 'Service unavailable', 'service_unavailable', retry);
    sendError(res, status, `fake-hermes: scenario answered ${status}`, 'fake_scenario_error');
  }

  private stopRun(run: FakeRun, res: ServerResponse): void {
    const outcome = run.requestStop();
    if (outcome === 'not_active')
      return sendError(res, 409, `Run is not active: ${run.id}`, 'run_not_active');
    if (outcome === 'ended') return sendJson(res, 200, run.statusObject());
    sendJson(res, 200, { run_id: run.id, status: 'stopping' });
  }

  private answerApproval(run: FakeRun, res: ServerResponse, json: ParsedJson): void {
    if (!json.ok || !isRecord(json.value))
      return sendError(res, 400, 'Invalid JSON', 'invalid_json');
    const rawChoice =
      typeof json.value.choice === 'string' ? json.value.choice.trim().toLowerCase() : '';
    const choice = APPROVAL_ALIASES[rawChoice] ?? rawChoice;
    if (!APPROVAL_CHOICES.has(choice)) {
      return sendError(
        res,
        400,
        'Invalid approval choice; expected one of: once, session, always, deny',
        'invalid_approval_choice',
      );
    }
    const requestId = json.value.request_id;
    if (requestId !== undefined && requestId !== null && typeof requestId !== 'string') {
      return sendError(res, 400, 'request_id must be a string', 'invalid_request');
    }
    const outcome = run.respondApproval(choice, requestId ?? undefined);
    if (outcome === 'not_pending') {
      return sendError(res, 409, `Run has no pending approval: ${run.id}`, 'approval_not_pending');
    }
    if (outcome === 'request_mismatch') {
      return sendError(
        res,
        409,
        `No pending approval with request_id ${String(requestId)}`,
        'approval_not_pending',
      );
    }
    sendJson(res, 200, {
      object: 'hermes.run.approval_response',
      run_id: run.id,
      choice,
      resolved: 1,
    });
  }

  private steerRun(run: FakeRun, res: ServerResponse, json: ParsedJson): void {
    if (!json.ok || !isRecord(json.value))
      return sendError(res, 400, 'Invalid JSON', 'invalid_json');
    const input = json.value.input;
    if (typeof input !== 'string' || input === '')
      return sendError(res, 400, "Missing 'input' field", 'invalid_request');
    if (!run.steer(input))
      return sendError(res, 409, `Run is not active: ${run.id}`, 'run_not_active');
    sendJson(res, 200, { object: 'hermes.run.steer_response', run_id: run.id, status: 'steered' });
  }
}

/** The spec's 400 rules for `POST /v1/runs`; returns the error text, or the validated request. */
function validateCreate(
  body: Record<string, unknown>,
  headers: IncomingHttpHeaders,
): CreateRunRequest | string {
  const input = body.input;
  if (input === undefined || input === null || input === '') return "Missing 'input' field";
  if (typeof input !== 'string') return "'input' must be a string";
  const rawHistory = body.conversation_history;
  const history: HistoryEntry[] = [];
  if (rawHistory !== undefined && rawHistory !== null) {
    if (!Array.isArray(rawHistory))
      return "'conversation_history' must be an array of message objects";
    for (let i = 0; i < rawHistory.length; i++) {
      const entry: unknown = rawHistory[i];
      if (!isRecord(entry) || !('role' in entry) || !('content' in entry)) {
        return `conversation_history[${i}] must have 'role' and 'content' fields`;
      }
      history.push({ role: String(entry.role), content: String(entry.content) });
    }
  }
  const str = (v: unknown): string | undefined =>
    typeof v === 'string' && v !== '' ? v : undefined;
  return {
    input,
    sessionId: str(body.session_id),
    model: str(body.model),
    instructions: str(body.instructions),
    history,
    body,
    headers,
  };
}
