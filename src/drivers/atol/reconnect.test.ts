import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReconnectLoop, SilenceWatch } from './reconnect.js';

describe('ReconnectLoop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    // The top of the jitter range: the delays are exactly the backoff steps.
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
  });

  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  function loop(attempt: () => Promise<unknown>, closed = () => false) {
    const failures: number[] = [];
    const reconnect = new ReconnectLoop({
      settings: { initialDelayMs: 100, maxDelayMs: 300 },
      attempt,
      closed,
      onAttemptFailed: (_error, count) => failures.push(count),
    });
    return { reconnect, failures };
  }

  it('doubles the delay up to the maximum until an attempt succeeds, then starts over', async () => {
    let up = false;
    const attempt = vi.fn(async () => {
      if (!up) throw new Error('no register');
    });
    const { reconnect, failures } = loop(attempt);
    await expect(reconnect.start(attempt)).rejects.toThrow('no register');
    await vi.advanceTimersByTimeAsync(99);
    expect(attempt).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1); // 100 ms
    await vi.advanceTimersByTimeAsync(200); // 200 ms
    await vi.advanceTimersByTimeAsync(300); // capped at 300 ms
    expect(attempt).toHaveBeenCalledTimes(4);
    expect(failures).toEqual([1, 2, 3]);
    up = true;
    await vi.advanceTimersByTimeAsync(300);
    expect(attempt).toHaveBeenCalledTimes(5);
    reconnect.succeeded();
    reconnect.schedule();
    await vi.advanceTimersByTimeAsync(100);
    expect(attempt).toHaveBeenCalledTimes(6);
  });

  it('schedules nothing once the owner is closed, and cancel drops a pending attempt', async () => {
    let closed = false;
    const attempt = vi.fn(async () => undefined);
    const { reconnect } = loop(attempt, () => closed);
    reconnect.schedule();
    reconnect.cancel();
    await vi.advanceTimersByTimeAsync(1000);
    expect(attempt).not.toHaveBeenCalled();
    closed = true;
    reconnect.schedule();
    await vi.advanceTimersByTimeAsync(1000);
    expect(attempt).not.toHaveBeenCalled();
  });
});

describe('SilenceWatch', () => {
  const noAnswer = () => Object.assign(new Error('no answer'), { code: 'KKT_NO_ANSWER' });
  const wrapped = () =>
    Object.assign(new Error('outcome unknown'), { code: 'KKT_OUTCOME_UNKNOWN', cause: noAnswer() });
  const refused = () => Object.assign(new Error('no paper'), { code: 'KKT_DEVICE_ERROR' });
  const linkDown = () => Object.assign(new Error('down'), { code: 'KKT_NOT_CONNECTED' });

  async function feed(watch: SilenceWatch, outcomes: Array<'ok' | Error>): Promise<number> {
    let drops = 0;
    for (const outcome of outcomes) {
      await watch
        .observe(outcome === 'ok' ? Promise.resolve(1) : Promise.reject(outcome), () => drops++)
        .catch(() => undefined);
    }
    return drops;
  }

  it('asks for a reopen after N timeouts in a row, a wrapped timeout counting as one', async () => {
    const watch = new SilenceWatch({ reopenAfterTimeouts: 3 });
    expect(await feed(watch, [noAnswer(), wrapped()])).toBe(0);
    expect(watch.silentSince).toBeDefined();
    expect(await feed(watch, [noAnswer()])).toBe(1);
    // The count starts again for the reopened link; the silence goes on until something answers.
    expect(await feed(watch, [noAnswer(), noAnswer()])).toBe(0);
    expect(watch.silentSince).toBeDefined();
  });

  it('any answer, a refusal too, resets the count and the silence; a lost link does neither', async () => {
    const watch = new SilenceWatch({ reopenAfterTimeouts: 2 });
    expect(await feed(watch, [noAnswer(), refused(), noAnswer(), 'ok', noAnswer()])).toBe(0);
    const since = watch.silentSince;
    expect(since).toBeDefined();
    expect(await feed(watch, [linkDown(), noAnswer()])).toBe(1);
    expect(watch.silentSince).toBe(since);
    await feed(watch, ['ok']);
    expect(watch.silentSince).toBeUndefined();
  });
});
