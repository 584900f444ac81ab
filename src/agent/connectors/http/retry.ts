import { setTimeout as sleep } from 'node:timers/promises';
import { jitteredBackoffMs } from '../../../lib/backoff.js';
import { errorCode } from '../../../lib/errors.js';
import { CloudHttpStatusError, CloudTimeoutError, CloudUnreachableError } from './errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** The first backoff delay, doubled per retry, with jitter. */
  firstDelayMs: number;
  /** Upper bound of one delay, `Retry-After` included. */
  maxDelayMs: number;
}

/** What a caller may log about a retry that is about to wait. */
export interface RetryNotice {
  /** 1 for the first retry. */
  attempt: number;
  code: string;
  delayMs: number;
}

/**
 * Runs an idempotent request (a GET), and again after a backoff while it fails in a way worth another try
 * (isRetryableRequestError), at most `policy.retries` more times. Aborting `signal` ends the wait.
 */
export async function withRetries<T>(
  attemptOnce: () => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
  onRetry: (notice: RetryNotice) => void,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attemptOnce();
    } catch (error) {
      if (retry >= policy.retries || !isRetryableRequestError(error) || signal?.aborted) throw error;
      const delayMs = retryDelayMs(retry, error, policy);
      onRetry({ attempt: retry + 1, code: errorCode(error), delayMs });
      await sleep(delayMs, undefined, signal ? { signal } : undefined);
    }
  }
}

/** Worth another try: the network, the deadline, or a status that means "not now" (5xx, 408, 429). */
export function isRetryableRequestError(error: unknown): boolean {
  if (error instanceof CloudUnreachableError || error instanceof CloudTimeoutError) return true;
  if (error instanceof CloudHttpStatusError) {
    return error.status >= 500 || error.status === 408 || error.status === 429;
  }
  return false;
}

/** The jittered backoff, or the server's `Retry-After` when that is longer; never over `maxDelayMs`. */
function retryDelayMs(retry: number, error: unknown, policy: RetryPolicy): number {
  const backoffMs = jitteredBackoffMs(retry, {
    firstDelayMs: policy.firstDelayMs,
    maxDelayMs: policy.maxDelayMs,
  });
  const requestedMs = error instanceof CloudHttpStatusError ? (error.retryAfterMs ?? 0) : 0;
  return Math.min(policy.maxDelayMs, Math.max(backoffMs, requestedMs));
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
