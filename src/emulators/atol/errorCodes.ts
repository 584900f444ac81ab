import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the emulators' own errors (all are the ATOL emulator's), with what each means (docs/errors.md
 * is made from this list). An emulated register refuses a command with the register's own error bytes
 * (drivers/atol's list).
 */
export const EMULATOR_ERROR_CODES = {
  EMULATOR_CONFIG_INVALID: 'An option of the ATOL emulator is invalid; the message names it.',
  EMULATOR_STATE_INVALID:
    "The ATOL emulator's saved state cannot be used. Move the file away to start afresh.",
  EMULATOR_CLOSED: 'A command reached an ATOL emulator that was already closed.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    emulators: CodesIn<typeof EMULATOR_ERROR_CODES>;
  }
}
