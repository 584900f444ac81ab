import { KktAgentError } from '../../lib/errors.js';
import type { SYSTEMD_ERROR_CODES } from './errorCodes.js';

/**
 * The agent cannot talk to systemd although systemd expects it to. Under `Type=notify` and `WatchdogSec=`
 * that is fatal: the CLI must log it and exit non-zero now, rather than be killed by the watchdog later.
 * Its codes are the room's list, imported so that a compilation of this room alone registers them too.
 */
export class SystemdNotifyError extends KktAgentError {
  constructor(
    code: keyof typeof SYSTEMD_ERROR_CODES,
    message: string,
    details: Record<string, unknown> = {},
    cause?: unknown,
  ) {
    super(code, message, details, cause === undefined ? undefined : { cause });
  }
}
