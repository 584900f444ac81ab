/**
 * Settlement vocabulary. The FFD tables live in `src/lib/ffd.ts`; the domain adds how a customer pays.
 */

export {
  PAYMENT_METHOD_NAMES,
  PAYMENT_METHODS,
  PAYMENT_OBJECT_NAMES,
  PAYMENT_OBJECTS,
  type PaymentMethod,
  type PaymentObject,
  TAXATION_SYSTEM_NAMES,
  TAXATION_SYSTEMS,
  type TaxationSystem,
  taxationSystemsFromMask,
} from '../../lib/ffd.js';

/**
 * What the customer pays with. `card` is ATOL's `electronically` (any non-cash payment: card, QR, transfer);
 * the domain says `card` because that is what cashiers and clouds call it. `code` is the ATOL `99` payment
 * type byte and the `payments[].type` number.
 */
export const PAYMENT_TYPES = {
  cash: { atolName: 'cash', code: 1 },
  card: { atolName: 'electronically', code: 2 },
  prepaid: { atolName: 'prepaid', code: 3 },
  credit: { atolName: 'credit', code: 4 },
  other: { atolName: 'other', code: 5 },
} as const;

export type PaymentType = keyof typeof PAYMENT_TYPES;
export const PAYMENT_TYPE_NAMES = Object.keys(PAYMENT_TYPES) as [PaymentType, ...PaymentType[]];
