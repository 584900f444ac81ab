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
  ADVANCE_PAYMENT_OBJECT:
    'An advance or prepayment names goods as its payment object; it must be a payment (tag 1212 = 10). Correct the bill.',
  ADVANCE_VAT_NOT_CALCULATED:
    'An advance or prepayment carries VAT at a plain rate; it takes the calculated one (22/122, 10/110…). Correct the bill.',
  CHANGE_NOT_ALLOWED:
    'The payments exceed the total and the excess is not cash (only cash gives change). Correct the payments.',
  CORRECTION_BASIS_MISSING:
    'A correction receipt needs its basis: the date of the settlement corrected and, for an order, its number.',
  CORRECTION_NOT_EXPECTED:
    'Correction fields were given on a bill that is not a correction. Remove them or set the kind.',
  CUSTOMER_CONTACT_REQUIRED:
    "An internet settlement or an electronic-only receipt needs the buyer's e-mail or phone (tag 1008).",
  ORDER_REQUIRED: 'A receipt drawn on a prepayment or a credit must name the order it belongs to.',
  PAYMENT_TYPE_NOT_ALLOWED: 'This payment type (prepaid, credit…) is not allowed for the kind of receipt.',
  RELATION_NOT_EXPECTED: 'The bill names a related receipt, but its kind (a plain sale) relates to none.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry {
    domain: CodesIn<typeof DOMAIN_ERROR_CODES>;
  }
}
