import { z } from 'zod';

/**
 * Config fields every cloud account has, with the same bounds everywhere. Each cloud picks its defaults
 * (their APIs' sizes and pace differ) and says more about a field where it uses it.
 */
export const accountFields = {
  /** The account's name in the agent: `<cloud>:<id>` names the connector, `<id>` is the `account` of its bills. */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." or "-", at most 64'),

  /** Per request, connecting to the last byte of the answer. */
  timeoutMs: (defaultMs: number) => z.number().int().min(100).max(300_000).default(defaultMs),

  /** How many times a failed request is retried after the first attempt. */
  retries: (defaultRetries: number) => z.number().int().min(0).max(10).default(defaultRetries),

  /** The first backoff delay; doubles with each retry, with jitter. */
  retryDelayMs: (defaultMs: number) => z.number().int().min(0).max(60_000).default(defaultMs),

  /**
   * A bill that cannot be taken (its request fails, hangs, answers garbage) waits this long before it is
   * asked for again, doubling per failure up to `maxDelayMs`; the newer bills go on meanwhile.
   */
  billRetry: z
    .strictObject({
      firstDelayMs: z.number().int().min(0).max(86_400_000).default(60_000),
      maxDelayMs: z
        .number()
        .int()
        .min(0)
        .max(86_400_000)
        .default(30 * 60_000),
    })
    .prefault({}),

  /** Answers larger than this are refused unread. */
  maxResponseBytes: (limits: { maxBytes: number; defaultBytes: number }) =>
    z.number().int().min(1024).max(limits.maxBytes).default(limits.defaultBytes),
};
