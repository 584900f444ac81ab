import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the systemd integration's errors, with what each means (docs/errors.md is made from this
 * list).
 */
export const SYSTEMD_ERROR_CODES = {
  SD_NOTIFY_SOCKET_UNSUPPORTED:
    'NOTIFY_SOCKET is an abstract or relative socket the agent cannot address. Run it as a system service.',
  SD_NOTIFY_SEND_FAILED: 'A notification to systemd could not be sent.',
  SD_WATCHDOG_WITHOUT_NOTIFY:
    'systemd expects watchdog pings that cannot be sent; the agent exits. Check NotifyAccess=main and ExecStart.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    systemd: CodesIn<typeof SYSTEMD_ERROR_CODES>;
  }
}
