import type { CodesIn } from '../../lib/errors.js';

/**
 * The codes of the domain's refusals of a bill, with what each means (docs/errors.md is made from this list).
 * All are validation errors: nothing was fiscalized; correct the bill in the source system.
 */
export const DOMAIN_ERROR_CODES = {
  BILL_TOTAL_MISMATCH:
    "The bill's total differs from the sum of its items or payments. Correct the bill in the source system.",
  VAT_RATE_NOT_ALLOWED:
    'A VAT rate is not allowed for the currency or date of the bill. Correct the item in the source system.',
  MARKING_INVALID:
    "A position's marking code (Честный ЗНАК) is malformed, duplicated or does not fit its quantity. Correct the bill in the source system.",
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    domain: CodesIn<typeof DOMAIN_ERROR_CODES>;
  }
}
