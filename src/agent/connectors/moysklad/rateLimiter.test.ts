import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from './rateLimiter.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  vi.useRealTimers();
});

/** Runs `count` requests through the limiter, each answered `latencyMs` after it starts. */
async function drive(limiter: RateLimiter, count: number, latencyMs: number, untilMs: number) {
  const starts: number[] = [];
  const answers: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  for (let i = 0; i < count; i++) {
    void limiter.acquire().then((release) => {
      starts.push(Date.now());
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        answers.push(Date.now());
        release();
      }, latencyMs);
    });
  }
  await vi.advanceTimersByTimeAsync(untilMs);
  return { starts, answers, maxInFlight };
}

/** The most requests a server could count in any window of `windowMs`, each arriving as late as possible. */
function worstWindow(arrivals: number[], windowMs: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

describe('RateLimiter with the real posap limits (100 per 5 s, 4 in flight)', () => {
  it('never lets a server window hold more than 100, sustains about 20 per second, 4 in flight', async () => {
    const limiter = new RateLimiter();
    const { starts, answers, maxInFlight } = await drive(limiter, 400, 40, 25_000);
    expect(starts).toHaveLength(400);
    expect(maxInFlight).toBe(4);
    // Whether the server saw a request when it started or just before its answer, no window is over.
    expect(worstWindow(starts, 5_000)).toBeLessThanOrEqual(100);
    expect(worstWindow(answers, 5_000)).toBeLessThanOrEqual(100);
    // 400 requests need at least three full windows; the pacing stays close to the allowed 20 per second.
    const seconds = (starts.at(-1)! - starts[0]!) / 1000;
    expect(400 / seconds).toBeGreaterThan(19);
    expect(400 / seconds).toBeLessThanOrEqual(400 / 15);
  });

  it('spreads requests instead of firing a window in one burst', async () => {
    const limiter = new RateLimiter();
    const { starts } = await drive(limiter, 100, 1, 10_000);
    expect(worstWindow(starts, 1_000)).toBeLessThanOrEqual(20 + 20);
  });

  it('honours a pause from a 429 for every waiting request', async () => {
    const limiter = new RateLimiter();
    limiter.pauseFor(3_000);
    const { starts } = await drive(limiter, 5, 1, 4_000);
    expect(starts).toHaveLength(5);
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(3_000);
    expect(limiter.stats.started).toBe(5);
  });

  it('lets an aborted waiter go without taking a slot', async () => {
    const limiter = new RateLimiter({ maxInFlight: 1 });
    const first = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    first();
    const next = limiter.acquire();
    await vi.advanceTimersByTimeAsync(1);
    (await next)();
    expect(limiter.stats).toMatchObject({ started: 2, inFlight: 0, waiting: 0 });
  });
});
