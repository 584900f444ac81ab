import { formatMinor, parseDecimalToMinor } from '../../lib/decimal.js';

/**
 * The terminal carries money, quantities and percents as decimal strings ("9999.99"). Inside kkt-agent they
 * are integers: kopecks, thousandths and basis points. Conversion goes digit by digit (src/lib/decimal), so
 * no value ever passes through a float.
 */

export const MONEY_FRACTION_DIGITS = 2;
export const QUANTITY_FRACTION_DIGITS = 3;
/** Percents travel as "10" or "12.5"; inside we keep basis points (hundredths of a percent). */
export const PERCENT_FRACTION_DIGITS = 2;

/** The terminal's documented sum and price ceiling, 99999999999.99, in kopecks. */
export const MAX_SUM_MINOR = 9_999_999_999_999;
/** Quantity bounds from resultCodes 415/416: 0.001 … 9999.999. */
export const MIN_QUANTITY_MILLI = 1;
export const MAX_QUANTITY_MILLI = 9_999_999;
/** 100 % in basis points. */
export const FULL_PERCENT_BASIS_POINTS = 10_000;

/** 797 → "7.97", 1500 → "15", 10 → "0.1" (the shortest form, as in the vendor's examples). */
export function moneyToWire(minor: number): string {
  return formatMinor(minor, MONEY_FRACTION_DIGITS);
}

/** 1000 → "1", 9_999_990 → "9999.99", 250 → "0.25". */
export function quantityToWire(quantityMilli: number): string {
  return formatMinor(quantityMilli, QUANTITY_FRACTION_DIGITS);
}

/** 1000 → "10", 1250 → "12.5". */
export function percentToWire(basisPoints: number): string {
  return formatMinor(basisPoints, PERCENT_FRACTION_DIGITS);
}

/** "7.97" → 797, "15" → 1500, "7.970" → 797. More than two significant fraction digits throw a ValidationError. */
export function wireToMoneyMinor(text: string, field: string, allowNegative = false): number {
  return parseDecimalToMinor(text, MONEY_FRACTION_DIGITS, { field, rounding: 'exact', allowNegative });
}

/** "9999.99" → 9_999_990. */
export function wireToQuantityMilli(text: string, field: string, allowNegative = false): number {
  return parseDecimalToMinor(text, QUANTITY_FRACTION_DIGITS, { field, rounding: 'exact', allowNegative });
}

/** "10" → 1000 basis points. */
export function wireToBasisPoints(text: string, field: string, allowNegative = false): number {
  return parseDecimalToMinor(text, PERCENT_FRACTION_DIGITS, { field, rounding: 'exact', allowNegative });
}
