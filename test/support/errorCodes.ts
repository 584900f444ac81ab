import type { CodesIn } from '../../src/lib/errors.js';

/** The codes of the test harnesses' own errors (not shipped, so not in docs/errors.md). */
export const TEST_SUPPORT_ERROR_CODES = {
  WIRE_REPLAY_MISMATCH: 'The driver sent something else than the wire trace it is replayed against.',
} as const;

declare module '../../src/lib/errors.js' {
  interface ErrorCodeRegistry {
    'test/support': CodesIn<typeof TEST_SUPPORT_ERROR_CODES>;
  }
}
