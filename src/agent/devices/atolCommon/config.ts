import { z } from 'zod';
import { DEFAULT_RECONNECT } from '../../../drivers/atol/reconnect.js';

/** Config fields both ATOL backends have; the defaults are the driver's own. */

/** How the backend keeps trying to reach its register after a failed start or a lost connection. */
export const atolReconnectSchema = z
  .strictObject({
    initialDelayMs: z.number().int().min(50).max(60_000).default(DEFAULT_RECONNECT.initialDelayMs),
    maxDelayMs: z.number().int().min(100).max(600_000).default(DEFAULT_RECONNECT.maxDelayMs),
  })
  .prefault({});
