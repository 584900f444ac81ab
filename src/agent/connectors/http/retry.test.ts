import { afterEach, describe, expect, it, vi } from 'vitest';
import { KktAgentError } from '../../../lib/errors.js';
import { CloudHttpStatusError, CloudTimeoutError, CloudUnreachableError } from './errors.js';
import { isRetryableRequestError, type RetryNotice, retryAfterMs, withRetries } from './retry.js';

class TestUnreachableError extends CloudUnreachableError {
  constructor() {
    super('BRIDGE_UNREACHABLE', 'Test a: GET /x failed', {
      account: 'a',
      endpoint: 'GET /x',
      reason: 'ECONNREFUSED',
    });
  }
}

class TestTimeoutError extends CloudTimeoutError {
  constructor() {
    super('BRIDGE_TIMEOUT', 'Test', 'a', 'GET /x', 100);
  }
}

class TestStatusError extends CloudHttpStatusError {
  constructor(status: number, retryAfterMs?: number) {
    super('BRIDGE_HTTP_STATUS', `Test a: GET /x answered HTTP ${status}.`, {
      account: 'a',
      endpoint: 'GET /x',
      status,
      retryAfterMs,
    });
  }
}

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-03-22T18:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Sun, 22 Mar 2026 18:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Sun, 22 Mar 2026 17:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});

describe('isRetryableRequestError', () => {
  it('retries the network, the deadline, 5xx, 408 and 429; nothing else', () => {
    expect(isRetryableRequestError(new TestUnreachableError())).toBe(true);
    expect(isRetryableRequestError(new TestTimeoutError())).toBe(true);
    for (const status of [500, 503, 408, 429])
      expect(isRetryableRequestError(new TestStatusError(status))).toBe(true);
    for (const status of [400, 401, 404])
      expect(isRetryableRequestError(new TestStatusError(status))).toBe(false);
    expect(isRetryableRequestError(new KktAgentError('BRIDGE_MALFORMED_RESPONSE', 'no'))).toBe(false);
    expect(isRetryableRequestError(new Error('no'))).toBe(false);
  });
});

describe('withRetries', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('tries again after a retryable failure, waiting at least what Retry-After asked, within the cap', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const notices: RetryNotice[] = [];
    const failures = [new TestStatusError(503, 20), new TestTimeoutError()];
    let calls = 0;
    const value = await withRetries(
      async () => {
        calls++;
        const failure = failures.shift();
        if (failure) throw failure;
        return 'ok';
      },
      { retries: 3, firstDelayMs: 4, maxDelayMs: 15 },
      undefined,
      (notice) => notices.push(notice),
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(notices).toEqual([
      { attempt: 1, code: 'BRIDGE_HTTP_STATUS', delayMs: 15 },
      { attempt: 2, code: 'BRIDGE_TIMEOUT', delayMs: 4 },
    ]);
  });

  it('gives up after `retries`, and at once on an error not worth another try', async () => {
    let calls = 0;
    const failing = (error: Error) => async () => {
      calls++;
      throw error;
    };
    const policy = { retries: 2, firstDelayMs: 0, maxDelayMs: 0 };
    await expect(withRetries(failing(new TestTimeoutError()), policy, undefined, () => {})).rejects.toThrow(
      TestTimeoutError,
    );
    expect(calls).toBe(3);
    calls = 0;
    await expect(withRetries(failing(new TestStatusError(404)), policy, undefined, () => {})).rejects.toThrow(
      TestStatusError,
    );
    expect(calls).toBe(1);
  });
});
