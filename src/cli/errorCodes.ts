import type { CodesIn } from '../lib/errors.js';

/**
 * The codes of the command line's own errors, with what each means (docs/errors.md is made from this list).
 */
export const CLI_ERROR_CODES = {
  CLI_USAGE: 'The command line is not valid; the message says what to give.',
  MOYSKLAD_PASSWORD_FILE: 'The password file given to moysklad pair cannot be read or is empty.',
} as const;

declare module '../lib/errors.js' {
  interface ErrorCodeRegistry {
    cli: CodesIn<typeof CLI_ERROR_CODES>;
  }
}
