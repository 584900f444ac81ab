import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the composition root's errors (the config file, wiring devices), with what each means
 * (docs/errors.md is made from this list).
 */
export const CONFIG_ERROR_CODES = {
  CONFIG_INVALID:
    'The config is not valid; the message names the field and the reason. The agent does not start on it.',
  CONFIG_UNREADABLE: 'The config file cannot be read (missing, permissions).',
  KKT_USB_NOT_FOUND:
    'No ATOL register (or not the one with the configured serial) is attached over USB. Check the cable and power.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    config: CodesIn<typeof CONFIG_ERROR_CODES>;
  }
}
