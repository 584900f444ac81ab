import { formatMinor, parseDecimalToMinor } from '../../lib/decimal.js';
import { ValidationError } from '../../lib/errors.js';
import { jsonMinor } from '../../lib/json.js';
import { mulDivHalfUp } from './money.js';

/**
 * A quantity is a safe integer count of thousandths of the position's unit (`quantityMilli`): 1 piece is
 * 1000, 0.250 kg is 250, 85 g is 85000. Three fraction digits is what FFD and the ATOL EB payload carry.
 */

export const QUANTITY_FRACTION_DIGITS = 3;
export const QUANTITY_SCALE = 1000;

/** The ATOL EB payload holds quantity as 5 BCD bytes with 3 decimals: at most 9 999 999.999. */
export const MAX_QUANTITY_MILLI = 9_999_999_999;

/** Decimal text ("0.25", "85", "1e2") → thousandths; more than 3 fraction digits, zero or negative → error. */
export function parseQuantityMilli(text: string, field = 'quantity'): number {
  const quantityMilli = parseDecimalToMinor(text, QUANTITY_FRACTION_DIGITS, { field, rounding: 'exact' });
  assertQuantityMilli(quantityMilli, field);
  return quantityMilli;
}

/** 250 → "0.25", 85000 → "85". */
export function formatQuantity(quantityMilli: number): string {
  return formatMinor(quantityMilli, QUANTITY_FRACTION_DIGITS);
}

/** A JSON number of units → thousandths (for zod schemas over parseJsonLossless output). */
export function jsonQuantityMilli() {
  return jsonMinor({ fractionDigits: QUANTITY_FRACTION_DIGITS, max: MAX_QUANTITY_MILLI }).refine(
    (milli) => milli > 0,
    {
      message: 'quantity must be greater than 0',
    },
  );
}

export function isQuantityMilli(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= MAX_QUANTITY_MILLI;
}

export function assertQuantityMilli(value: number, field = 'quantity'): void {
  if (!Number.isSafeInteger(value))
    throw new ValidationError(field, `expected an integer count of thousandths, got ${value}`);
  if (value <= 0) throw new ValidationError(field, 'quantity must be greater than 0');
  if (value > MAX_QUANTITY_MILLI)
    throw new ValidationError(field, `quantity exceeds ${formatQuantity(MAX_QUANTITY_MILLI)}`);
}

/** Position amount: round-half-up(priceMinor × quantityMilli / 1000). 13.05 × 85 g → 1109.25. */
export function lineAmountMinor(priceMinor: number, quantityMilli: number, field = 'amountMinor'): number {
  return mulDivHalfUp(priceMinor, quantityMilli, QUANTITY_SCALE, field);
}
