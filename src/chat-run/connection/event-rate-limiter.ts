/** What a socket may send: a sustained rate, a burst on top, and when a flood ends the socket. */
export interface EventRateSettings {
  eventsPerSecond: number;
  eventBurst: number;
  floodDisconnectAfter: number;
}

export type RateVerdict = 'allow' | 'limit' | 'flood';

/**
 * The event budget of one socket: a token bucket (`eventBurst` tokens, refilled at
 * `eventsPerSecond`). An event without a token is refused (`limit`), and counts as a strike;
 * strikes are forgiven at the same rate, so a client that slows down recovers, while one that
 * keeps sending well above the rate piles them up and, past `floodDisconnectAfter`, is told
 * `flood` (disconnect it).
 *
 * Its own small class rather than a limiter library: the check runs synchronously in the
 * socket's packet middleware, and the state lives and dies with the socket (no keyed store to
 * evict, no timers).
 */
export class EventRateLimiter {
  private tokens: number;
  private strikes = 0;
  private last: number;

  /** `now` in milliseconds, from a monotonic clock (`performance.now()`). */
  constructor(
    private readonly settings: EventRateSettings,
    now: number,
  ) {
    this.tokens = settings.eventBurst;
    this.last = now;
  }

  take(now: number): RateVerdict {
    const earned = (Math.max(0, now - this.last) / 1000) * this.settings.eventsPerSecond;
    this.last = now;
    this.tokens = Math.min(this.settings.eventBurst, this.tokens + earned);
    this.strikes = Math.max(0, this.strikes - earned);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'allow';
    }
    this.strikes += 1;
    return this.strikes > this.settings.floodDisconnectAfter ? 'flood' : 'limit';
  }
}
