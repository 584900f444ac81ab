import { z } from 'zod';
import { DEFAULT_RECONNECT, DEFAULT_REOPEN_AFTER_TIMEOUTS } from '../../../drivers/atol/reconnect.js';

/** Config fields both ATOL backends have; the defaults are the driver's own. */

const reconnectFields = {
  initialDelayMs: z.number().int().min(50).max(60_000).default(DEFAULT_RECONNECT.initialDelayMs),
  maxDelayMs: z.number().int().min(100).max(600_000).default(DEFAULT_RECONNECT.maxDelayMs),
};

/** How the backend keeps trying to reach its register after a failed start or a lost connection. */
export const atolReconnectSchema = z.strictObject(reconnectFields).prefault({});

/** The protocol backend's: also when a register silent on an open link is reopened (docs/configuration.md). */
export const atolProtocolReconnectSchema = z
  .strictObject({
    ...reconnectFields,
    /** A register silent on an open link (TCP connected, port present) is reopened after this many timeouts in a row. */
    reopenAfterTimeouts: z.number().int().min(1).max(100).default(DEFAULT_REOPEN_AFTER_TIMEOUTS),
  })
  .prefault({});
