import type { CodesIn } from '../../lib/errors.js';
import { INTENT_RESULT_CODES } from './resultCodes.js';

/** The terminal's documented result codes: the table's explanation says what a technician should do. */
const RESULT_CODE_MEANINGS = Object.fromEntries(
  INTENT_RESULT_CODES.map((row) => [row.code, `resultCode ${row.resultCode}: ${row.explanation}`]),
) as Readonly<Record<(typeof INTENT_RESULT_CODES)[number]['code'], string>>;

/**
 * The codes of the SmartX driver's errors, with what each means (docs/errors.md is made from this list).
 * The terminal's refusals keep their table (`resultCodes.ts`), whose rows are part of this list.
 */
export const INTENT_ERROR_CODES = {
  INTENT_UNREACHABLE:
    'The terminal cannot be reached; nothing was sent. Check that it is on, on the same network, with server mode enabled.',
  INTENT_NO_ANSWER: 'The terminal gave no usable answer to a request that changes nothing; nothing happened.',
  INTENT_OUTCOME_UNKNOWN:
    'A sale was sent but its answer was lost: it may have printed and charged a card. Check the last receipt on the terminal.',
  INTENT_AUTH_FAILED:
    'Authorization on the terminal failed; no sale was sent. Check the PIN configured for it.',
  INTENT_NOT_FOUND:
    'No terminal answered the network search (SSDP). Configure its address, or check the network.',
  INTENT_UNKNOWN_RESULT_CODE:
    "The terminal refused with a resultCode the vendor's table does not list; nothing happened. Read its screen, report the code.",
  ...RESULT_CODE_MEANINGS,
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    'drivers/intent': CodesIn<typeof INTENT_ERROR_CODES>;
  }
}
