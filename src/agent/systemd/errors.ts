import { KktAgentError } from '../../lib/errors.js';

/**
 * The agent cannot talk to systemd although systemd expects it to. Under `Type=notify` and `WatchdogSec=`
 * that is fatal: the CLI must log it and exit non-zero now, rather than be killed by the watchdog later.
 */
export class SystemdNotifyError extends KktAgentError {
  constructor(
    code: 'SD_NOTIFY_SOCKET_UNSUPPORTED' | 'SD_NOTIFY_SEND_FAILED' | 'SD_WATCHDOG_WITHOUT_NOTIFY',
    message: string,
    details: Record<string, unknown> = {},
    cause?: unknown,
  ) {
    super(code, message, details, cause === undefined ? undefined : { cause });
  }
}
