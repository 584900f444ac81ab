import { z } from 'zod';
import { urlSchema } from '../../lib/urlSchema.js';

/** The `state` section: how often the state document is published (MQTT) and POSTed. All of it applies live. */

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

export const stateConfigSchema = z.strictObject({
  /** The document is sent at least this often, changed or not. */
  intervalMs: ms(1000, 86_400_000).default(60_000),
  /** A change (job, device, shift) is sent after this quiet time, so a burst gives one document. */
  debounceMs: ms(0, 60_000).default(1000),
  /** `POST /state`: the same document, latest wins (docs/mqtt.md, "POST /state"). */
  postUrl: urlSchema({
    protocols: ['http', 'https'],
    credentialsGoIn: 'postToken',
    allowQuery: true,
  }).optional(),
  /** Sent as `Authorization: Bearer <token>`. */
  postToken: z.string().min(1).max(4096).optional(),
  postTimeoutMs: ms(100, 120_000).default(10_000),
});

export type StateConfig = z.output<typeof stateConfigSchema>;
