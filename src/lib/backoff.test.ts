import { afterEach, describe, expect, it, vi } from 'vitest';
import { jitteredBackoffMs } from './backoff.js';

describe('jitteredBackoffMs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('doubles per retry and jitters within the upper half', () => {
    const schedule = { firstDelayMs: 500, maxDelayMs: 30_000 };
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect([0, 1, 2].map((retry) => jitteredBackoffMs(retry, schedule))).toEqual([250, 500, 1000]);
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    expect([0, 1, 2].map((retry) => jitteredBackoffMs(retry, schedule))).toEqual([500, 1000, 2000]);
  });

  it('caps before the jitter: delays at the cap still spread over its upper half', () => {
    const schedule = { firstDelayMs: 1000, maxDelayMs: 8000 };
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(jitteredBackoffMs(10, schedule)).toBe(4000);
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(jitteredBackoffMs(10, schedule)).toBe(6000);
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    expect(jitteredBackoffMs(10, schedule)).toBe(8000);
  });

  it('stays a number for a zero first delay, a huge retry count and a negative one', () => {
    expect(jitteredBackoffMs(5000, { firstDelayMs: 0, maxDelayMs: 1000 })).toBe(0);
    expect(jitteredBackoffMs(5000, { firstDelayMs: 1, maxDelayMs: 1000 })).toBeLessThanOrEqual(1000);
    expect(jitteredBackoffMs(-1, { firstDelayMs: 100, maxDelayMs: 1000 })).toBeLessThanOrEqual(100);
  });
});
