/** Tuning of {@link EventLog}; provide a partial object under {@link EVENT_LOG_OPTIONS}. */
export interface EventLogOptions {
  /** How long an appended event may wait in memory before it is written, in ms. */
  flushIntervalMs: number;
  /**
   * Seqs reserved in the database ahead of the newest handed-out seq. After a crash numbering
   * resumes above the reservation, so it must exceed the events one session can emit between two
   * successful writes; a crash skips at most this many numbers.
   */
  block: number;
  /** Events per session that `trim` keeps when no count is given (`EVENT_LOG_WINDOW`). */
  window: number;
  /**
   * Unwritten events held per session while writes keep failing; beyond it the oldest are dropped
   * (a replay that needs them reports incomplete), so a database outage cannot exhaust memory.
   */
  maxPendingEvents: number;
}

export const DEFAULT_EVENT_LOG_OPTIONS: Readonly<EventLogOptions> = {
  flushIntervalMs: 500,
  block: 100_000,
  window: 2000,
  maxPendingEvents: 50_000,
};

/** Injection token for `Partial<EventLogOptions>`; anything left out takes the default. */
export const EVENT_LOG_OPTIONS = Symbol('EVENT_LOG_OPTIONS');

export function resolveEventLogOptions(options: Partial<EventLogOptions> = {}): EventLogOptions {
  const resolved = { ...DEFAULT_EVENT_LOG_OPTIONS, ...options };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < (name === 'window' ? 0 : 1)) {
      throw new Error(`Event log option ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return resolved;
}
