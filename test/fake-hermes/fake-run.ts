import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import { buildRunScript, type RunStep, type Usage } from './run-script';
import type { Scenario } from './scenario';

export type RunStatus =
  | 'queued'
  | 'running'
  | 'waiting_for_approval'
  | 'stopping'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'interrupted';

export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set([
  'completed',
  'failed',
  'cancelled',
  'interrupted',
]);

/**
 * The event stream's life: `unclaimed` (events are buffered until a subscriber comes), `attached`
 * (events are written to the one subscriber), `closed` (ended, dropped, expired: 404 from now on).
 */
export type StreamState = 'unclaimed' | 'attached' | 'closed';

/** `GET /v1/runs/{id}`, exactly as the spec lists it. */
export interface RunStatusObject {
  object: 'hermes.run';
  run_id: string;
  status: RunStatus;
  created_at: number;
  updated_at: number;
  session_id: string;
  model: string;
  last_event: string | null;
  output?: string;
  usage?: Usage;
  error?: string;
}

/** A recorded event (only kept when the server's `recordEvents` option is on). */
export interface RecordedEvent {
  readonly event: string;
  readonly timestamp: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** What a run needs from the server that owns it. */
export interface RunHost {
  readonly recordEvents: boolean;
  streamOpened(run: FakeRun): void;
  streamClosed(run: FakeRun): void;
  forget(run: FakeRun): void;
  changed(): void;
}

export interface RunInit {
  readonly id: string;
  readonly scenario: Scenario;
  readonly input: string;
  readonly sessionId: string;
  readonly model: string;
  readonly body: Readonly<Record<string, unknown>>;
}

interface Frame {
  /** The JSON text without its closing `}` (or the raw payload when `raw`). */
  readonly head: string;
  readonly stampSentAt: boolean;
  readonly raw: boolean;
}

export type StopOutcome = 'stopping' | 'ended' | 'not_active';
export type ApprovalOutcome = 'resolved' | 'not_pending' | 'request_mismatch';

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  'X-Accel-Buffering': 'no',
} as const;

/** Fake-only: the wall-clock send time in ms (float), stamped on each `message.delta` as `sent_at`. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One fake run: a script of steps played on one timer, independent of any subscriber, with the
 * buffer and the single subscriber of its event stream, and the status the spec's poll returns.
 */
export class FakeRun {
  readonly id: string;
  readonly scenario: Scenario;
  readonly input: string;
  readonly sessionId: string;
  readonly model: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly createdAt = Date.now() / 1000;
  /** The text of all deltas, unformatted. */
  readonly expectedText: string;
  /** Recorded events, when the server records them. */
  readonly events: RecordedEvent[] | null;

  status: RunStatus = 'queued';
  updatedAt = this.createdAt;
  lastEvent: string | null = null;
  output?: string;
  usage?: Usage;
  error?: string;
  deltasEmitted = 0;
  eventsEmitted = 0;
  pendingApproval: { readonly requestId: string; readonly choices: readonly string[] } | null =
    null;
  stopRequested = false;

  private streamState: StreamState = 'unclaimed';
  private res: ServerResponse | null = null;
  private buffer: Frame[] = [];
  private dropPending = false;
  private terminalSent = false;
  /** `performance.now()` of the last write to the subscriber (for keepalives). */
  private lastWriteAt = 0;

  private steps: RunStep[];
  private cursor = 0;
  private dueAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private paused = false;
  private readonly finalOutput: string;
  private readonly finalUsage: Usage;

  constructor(
    init: RunInit,
    private readonly host: RunHost,
  ) {
    this.id = init.id;
    this.scenario = init.scenario;
    this.input = init.input;
    this.sessionId = init.sessionId;
    this.model = init.model;
    this.body = init.body;
    this.events = host.recordEvents ? [] : null;
    const script = buildRunScript(init.scenario, init.input.length);
    this.steps = script.steps;
    this.expectedText = script.expectedText;
    this.finalOutput = script.output;
    this.finalUsage = script.usage;
  }

  get finished(): boolean {
    return TERMINAL_STATUSES.has(this.status);
  }

  get stream(): StreamState {
    return this.streamState;
  }

  get bufferedFrames(): number {
    return this.buffer.length;
  }

  /** Starts playing the script (the run is `running` from now on). */
  start(): void {
    this.status = 'running';
    this.dueAt = performance.now() + (this.steps[0]?.delayMs ?? 0);
    this.arm();
  }

  statusObject(): RunStatusObject {
    return {
      object: 'hermes.run',
      run_id: this.id,
      status: this.status,
      created_at: this.createdAt,
      updated_at: this.updatedAt,
      session_id: this.sessionId,
      model: this.model,
      last_event: this.lastEvent,
      ...(this.output !== undefined ? { output: this.output } : {}),
      ...(this.usage !== undefined ? { usage: this.usage } : {}),
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------
  // The event stream
  // -------------------------------------------------------------------------------------------

  /** Makes `res` the run's one subscriber; false (answer 404) if the stream was already claimed. */
  attach(res: ServerResponse): boolean {
    if (this.streamState !== 'unclaimed') return false;
    this.streamState = 'attached';
    this.res = res;
    this.lastWriteAt = performance.now();
    res.writeHead(200, SSE_HEADERS);
    res.on('close', () => {
      if (this.res === res) this.detach();
    });
    this.host.streamOpened(this);
    const pending = this.buffer;
    this.buffer = [];
    if (pending.length) this.write(pending.map(render).join(''));
    else res.flushHeaders();
    if (this.dropPending) this.dropStream();
    else if (this.terminalSent) this.endStream();
    return true;
  }

  /** Writes `: keepalive` if nothing was written for `silenceMs`. */
  keepalive(now: number, silenceMs: number): void {
    if (this.res && now - this.lastWriteAt >= silenceMs) this.write(': keepalive\n\n');
  }

  /** Closes an unclaimed stream (the subscriber never came); later subscribers get 404. */
  expireStream(): void {
    if (this.streamState !== 'unclaimed') return;
    this.streamState = 'closed';
    this.buffer = [];
  }

  private write(chunk: string): void {
    this.lastWriteAt = performance.now();
    this.res?.write(chunk);
  }

  private deliver(frame: Frame): void {
    if (this.streamState === 'attached') this.write(render(frame));
    else if (this.streamState === 'unclaimed' && !this.dropPending) this.buffer.push(frame);
  }

  /** The subscriber went away (or we ended its response): the stream is over for good. */
  private detach(): void {
    this.res = null;
    this.streamState = 'closed';
    this.buffer = [];
    this.host.streamClosed(this);
  }

  private endStream(): void {
    const res = this.res;
    if (!res) return;
    res.end(': stream closed\n\n');
    this.detach();
  }

  /** Breaks the connection without a terminal event (as a crashed proxy or upstream would). */
  private dropStream(): void {
    const res = this.res;
    if (res) {
      this.dropPending = false;
      this.detach();
      // Close once what was written is flushed (so the client gets exactly N deltas), without the
      // chunked-encoding terminator: to the client the response breaks off mid-body.
      if (res.socket) res.socket.destroySoon();
      else res.destroy();
    } else if (this.streamState === 'unclaimed') {
      // Nobody subscribed yet: stop buffering here and drop right after the backlog is flushed.
      this.dropPending = true;
      return;
    }
    if (this.scenario.forgetRunAfterDrop) this.host.forget(this);
  }

  // -------------------------------------------------------------------------------------------
  // The script
  // -------------------------------------------------------------------------------------------

  private arm(): void {
    if (this.timer || this.paused || this.finished || this.cursor >= this.steps.length) return;
    this.timer = setTimeout(this.tick, Math.max(0, this.dueAt - performance.now()));
  }

  private readonly tick = (): void => {
    this.timer = null;
    for (;;) {
      if (this.paused || this.finished) return;
      const step = this.steps[this.cursor];
      if (!step) return;
      const now = performance.now();
      if (this.dueAt - now > 1) {
        this.timer = setTimeout(this.tick, this.dueAt - now);
        return;
      }
      // Far behind (a blocked event loop): do not burst, restart the schedule from now.
      if (now - this.dueAt > 1000) this.dueAt = now;
      this.cursor++;
      this.execute(step);
      const next = this.steps[this.cursor];
      if (next) this.dueAt += next.delayMs;
    }
  };

  private execute(step: RunStep): void {
    switch (step.kind) {
      case 'delta':
        this.emitDelta(step.delta);
        break;
      case 'event':
        this.emit(step.event, step.fields);
        break;
      case 'garbage':
        this.deliver({ head: step.raw, stampSentAt: false, raw: true });
        break;
      case 'approval':
        this.pendingApproval = {
          requestId: String(step.fields.request_id),
          choices: this.scenario.approval?.choices ?? [],
        };
        if (this.status === 'running') this.status = 'waiting_for_approval';
        this.paused = true;
        this.emit('approval.request', step.fields);
        break;
      case 'drop':
        this.dropStream();
        break;
      case 'fail':
        this.error = step.error;
        this.finish('failed', 'run.failed', { error: step.error });
        break;
      case 'complete':
        this.output = this.finalOutput;
        this.usage = this.finalUsage;
        this.finish('completed', 'run.completed', {
          output: this.finalOutput,
          usage: this.finalUsage,
        });
        break;
    }
  }

  private emitDelta(delta: string): void {
    const timestamp = Date.now() / 1000;
    this.deltasEmitted++;
    this.eventsEmitted++;
    this.lastEvent = 'message.delta';
    this.updatedAt = timestamp;
    this.events?.push({ event: 'message.delta', timestamp, fields: { delta } });
    // Built by hand: the hot path of the benchmark. run_id is `run_<hex>`, safe to inline.
    const head = `{"event":"message.delta","run_id":"${this.id}","timestamp":${timestamp},"delta":${JSON.stringify(delta)}`;
    this.deliver({ head, stampSentAt: true, raw: false });
    this.host.changed();
  }

  private emit(event: string, fields: Readonly<Record<string, unknown>>): void {
    const timestamp = Date.now() / 1000;
    this.eventsEmitted++;
    this.lastEvent = event;
    this.updatedAt = timestamp;
    this.events?.push({ event, timestamp, fields });
    const json = JSON.stringify({ event, run_id: this.id, timestamp, ...fields });
    this.deliver({ head: json.slice(0, -1), stampSentAt: false, raw: false });
    this.host.changed();
  }

  /** Ends the run with a terminal event; the stream (if attached) gets `: stream closed` and ends. */
  private finish(
    status: RunStatus,
    event: string,
    fields: Readonly<Record<string, unknown>>,
  ): void {
    this.clearTimer();
    this.steps = [];
    this.pendingApproval = null;
    this.paused = false;
    this.status = status;
    this.emit(event, fields);
    this.terminalSent = true;
    if (this.streamState === 'attached') this.endStream();
    this.host.changed();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  // -------------------------------------------------------------------------------------------
  // Control: stop, approval, steer, interrupt
  // -------------------------------------------------------------------------------------------

  requestStop(): StopOutcome {
    if (this.status === 'interrupted') return 'not_active';
    if (this.finished) return 'ended';
    this.stopRequested = true;
    if (this.status === 'stopping') return 'stopping';
    this.status = 'stopping';
    this.lastEvent = 'run.stopping';
    this.updatedAt = Date.now() / 1000;
    if (!this.scenario.ignoreStop) {
      if (this.scenario.stopDelayMs > 0) {
        this.clearTimer();
        this.paused = true;
        this.timer = setTimeout(
          () => this.finish('cancelled', 'run.cancelled', {}),
          this.scenario.stopDelayMs,
        );
      } else {
        this.finish('cancelled', 'run.cancelled', {});
      }
    }
    this.host.changed();
    return 'stopping';
  }

  respondApproval(choice: string, requestId: string | undefined): ApprovalOutcome {
    const pending = this.pendingApproval;
    if (!pending || this.finished) return 'not_pending';
    if (requestId !== undefined && requestId !== pending.requestId) return 'request_mismatch';
    this.pendingApproval = null;
    if (this.status === 'waiting_for_approval') this.status = 'running';
    this.emit('approval.responded', { choice, resolved: 1, request_id: pending.requestId });
    if (this.status !== 'stopping' || this.scenario.ignoreStop) {
      this.paused = false;
      this.dueAt = performance.now() + (this.steps[this.cursor]?.delayMs ?? 0);
      this.arm();
    }
    return 'resolved';
  }

  /** `run.steered`; false when the run is not live. */
  steer(input: string): boolean {
    if (this.finished) return false;
    this.emit('run.steered', { input });
    return true;
  }

  /** As if the upstream restarted: the run is `interrupted`, its stream broken, nothing more happens. */
  interrupt(): void {
    if (!this.finished) {
      this.clearTimer();
      this.steps = [];
      this.pendingApproval = null;
      this.status = 'interrupted';
      this.error = 'fake-hermes: upstream restarted before the run settled';
      this.updatedAt = Date.now() / 1000;
    }
    this.dispose();
  }

  /** Stops timers and breaks any open stream (server shutdown, eviction, forgetting). */
  dispose(): void {
    this.clearTimer();
    this.paused = true;
    const res = this.res;
    if (res) {
      this.detach();
      res.destroy();
    } else {
      this.streamState = 'closed';
      this.buffer = [];
    }
  }
}

function render(frame: Frame): string {
  if (frame.raw) return `data: ${frame.head}\n\n`;
  if (frame.stampSentAt) return `data: ${frame.head},"sent_at":${nowMs()}}\n\n`;
  return `data: ${frame.head}}\n\n`;
}
