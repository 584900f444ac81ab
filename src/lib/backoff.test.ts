import { afterEach, describe, expect, it, vi } from 'vitest';
import { jitteredBackoffMs } from './backoff.js';

describe('jitteredBackoffMs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('doubles per retry and jitters within the upper half', () => {
    const schedule = { firstDelayMs: 500, maxDelayMs: 30_000, cap: 'after-jitter' } as const;
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect([0, 1, 2].map((retry) => jitteredBackoffMs(retry, schedule))).toEqual([250, 500, 1000]);
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    expect([0, 1, 2].map((retry) => jitteredBackoffMs(retry, schedule))).toEqual([500, 1000, 2000]);
  });

  it('before-jitter: delays at the cap still spread over its upper half', () => {
    const schedule = { firstDelayMs: 1000, maxDelayMs: 8000, cap: 'before-jitter' } as const;
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(jitteredBackoffMs(10, schedule)).toBe(4000);
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(jitteredBackoffMs(10, schedule)).toBe(6000);
  });

  it('after-jitter: delays past twice the cap are the cap itself', () => {
    const schedule = { firstDelayMs: 1000, maxDelayMs: 8000, cap: 'after-jitter' } as const;
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(jitteredBackoffMs(10, schedule)).toBe(8000);
  });

  it('stays a number for a zero first delay and a huge retry count', () => {
    for (const cap of ['before-jitter', 'after-jitter'] as const) {
      expect(jitteredBackoffMs(5000, { firstDelayMs: 0, maxDelayMs: 1000, cap })).toBe(0);
      expect(jitteredBackoffMs(5000, { firstDelayMs: 1, maxDelayMs: 1000, cap })).toBeLessThanOrEqual(1000);
    }
  });
});
