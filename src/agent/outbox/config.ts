import { z } from 'zod';

/** The `outbox` section of the config: the schema owns its defaults, the outbox takes the parsed type. */
export const outboxConfigSchema = z.strictObject({
  /** The first wait after a failed delivery; doubles per failure (jittered) up to `maxBackoffMs`. */
  initialBackoffMs: z.number().int().min(10).max(600_000).default(1000),
  maxBackoffMs: z.number().int().min(100).max(86_400_000).default(300_000),
  /** Delivered reports are kept this long (then dropped at compaction). */
  retainDeliveredDays: z.number().int().min(1).max(3650).default(7),
  /** A receipt fiscalized but not reported for longer than this is an alert (`status`, state document). */
  unreportedAlertMs: z
    .number()
    .int()
    .min(1000)
    .max(30 * 86_400_000)
    .default(3_600_000),
});

export type OutboxConfig = z.output<typeof outboxConfigSchema>;

export const OUTBOX_DEFAULTS: OutboxConfig = outboxConfigSchema.parse({});

export const DAY_MS = 86_400_000;
