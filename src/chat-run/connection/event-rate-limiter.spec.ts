import { EventRateLimiter } from './event-rate-limiter';

describe('EventRateLimiter', () => {
  const settings = { eventsPerSecond: 10, eventBurst: 3, floodDisconnectAfter: 4 };

  it('allows a burst, then refuses until tokens are earned back at the rate', () => {
    const limiter = new EventRateLimiter(settings, 0);
    expect([0, 0, 0, 0].map((now) => limiter.take(now))).toEqual([
      'allow',
      'allow',
      'allow',
      'limit',
    ]);
    expect(limiter.take(50)).toBe('limit'); // half a token
    expect(limiter.take(100)).toBe('allow'); // 100 ms at 10/s: one token
    expect(limiter.take(100)).toBe('limit');
  });

  it('never holds more than the burst, however long the socket was quiet', () => {
    const limiter = new EventRateLimiter(settings, 0);
    const verdicts = Array.from({ length: 5 }, () => limiter.take(60_000));
    expect(verdicts).toEqual(['allow', 'allow', 'allow', 'limit', 'limit']);
  });

  it('calls a socket that keeps sending over the rate a flood', () => {
    const limiter = new EventRateLimiter(settings, 0);
    const verdicts = Array.from({ length: 8 }, () => limiter.take(0));
    // 3 allowed, 4 strikes tolerated, the 5th is the flood.
    expect(verdicts).toEqual([
      'allow',
      'allow',
      'allow',
      'limit',
      'limit',
      'limit',
      'limit',
      'flood',
    ]);
  });

  it('forgives strikes at the sustained rate, so a client that slows down recovers', () => {
    const limiter = new EventRateLimiter(settings, 0);
    for (let i = 0; i < 7; i++) limiter.take(0); // 3 allowed, 4 strikes
    // One second later: 10 tokens earned (3 kept) and 10 strikes forgiven.
    expect(limiter.take(1000)).toBe('allow');
    const after = Array.from({ length: 7 }, () => limiter.take(1000));
    expect(after).toEqual(['allow', 'allow', 'limit', 'limit', 'limit', 'limit', 'flood']);
  });

  it('takes a clock that goes backwards as no time passed', () => {
    const limiter = new EventRateLimiter(settings, 1000);
    for (let i = 0; i < 3; i++) limiter.take(1000);
    expect(limiter.take(0)).toBe('limit');
  });
});
