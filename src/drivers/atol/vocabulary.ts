/**
 * ATOL's JSON-task vocabulary (docs/protocol/atol-v3.md §12), which users of ATOL registers already know.
 * The FFD code tables are shared with the agent (`src/lib/ffd.ts`); this module adds the rate names (their
 * `EB` bytes live in `taxBytes.ts`) and the wire codes of the `99`/`4A` payment type.
 */
import { PaymentType as WirePaymentType } from './commands/receipt.js';
import { TAX_TYPES, type TaxType } from './taxBytes.js';

export {
  CORRECTION_TYPE_NAMES,
  CORRECTION_TYPES,
  type CorrectionType,
  MEASUREMENT_UNIT_NAMES,
  MEASUREMENT_UNITS,
  type MeasurementUnit,
  PAYMENT_METHOD_NAMES,
  PAYMENT_METHODS,
  PAYMENT_OBJECT_NAMES,
  PAYMENT_OBJECTS,
  type PaymentMethod,
  type PaymentObject,
  TAXATION_SYSTEM_NAMES,
  TAXATION_SYSTEMS,
  type TaxationSystem,
} from '../../lib/ffd.js';

export { TAX_TYPES, type TaxType };

/** `payments[].type` names, and the wire codes of `99`/`4A`. */
export const PAYMENT_TYPES = {
  cash: WirePaymentType.Cash,
  electronically: WirePaymentType.Electronically,
  prepaid: WirePaymentType.Prepaid,
  credit: WirePaymentType.Credit,
  other: WirePaymentType.Other,
} as const;
export type ReceiptPaymentType = keyof typeof PAYMENT_TYPES;
export const PAYMENT_TYPE_NAMES = Object.keys(PAYMENT_TYPES) as [ReceiptPaymentType, ...ReceiptPaymentType[]];
