import { ValidationError } from './errors.js';

/**
 * Exact conversion between decimal text ("3442.71", "1.5e2") and integers scaled by 10^fractionDigits
 * (kopecks, thousandths). Everything goes through bigint, so no value ever passes through a float.
 */

export type DecimalRounding = 'exact' | 'halfUp';

export interface ParseDecimalOptions {
  /** Field path named in errors, e.g. `products[2].price`. */
  field: string;
  /** `exact` rejects digits beyond `fractionDigits`; `halfUp` rounds them half away from zero. */
  rounding?: DecimalRounding;
  allowNegative?: boolean;
}

// Sign, integer part (leading zeros tolerated: the value is unambiguous), optional fraction, optional exponent.
// No "+", no ".5" or "5.", no decimal comma, no surrounding spaces: callers trim if their format allows it.
const DECIMAL_PATTERN = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

// Any real amount, quantity or id has far fewer digits; the cap keeps 10n ** n cheap on hostile input.
const MAX_EXPONENT = 400;
const MAX_TEXT_LENGTH = 400;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Parses decimal text to an integer count of 10^-fractionDigits units, e.g. ("12.3", 2) → 1230.
 * Exponents are applied exactly ("1e3" → 1000 units of 1). Throws ValidationError naming `field`.
 */
export function parseDecimalToMinor(
  text: string,
  fractionDigits: number,
  options: ParseDecimalOptions,
): number {
  const { field, rounding = 'exact', allowNegative = false } = options;
  if (!Number.isInteger(fractionDigits) || fractionDigits < 0 || fractionDigits > 20) {
    throw new RangeError(`fractionDigits must be an integer 0..20, got ${fractionDigits}`);
  }
  if (typeof text !== 'string') {
    throw new ValidationError(field, 'expected decimal text');
  }
  const match = text.length <= MAX_TEXT_LENGTH ? DECIMAL_PATTERN.exec(text) : null;
  if (!match) {
    const hint = /^-?\d+,\d+$/.test(text) ? " (use '.' as the decimal separator)" : '';
    throw new ValidationError(field, `"${truncate(text)}" is not a decimal number${hint}`);
  }
  const [, sign = '', integerDigits = '', fractionText = '', exponentText = '0'] = match;
  const exponent = Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > MAX_EXPONENT) {
    throw new ValidationError(field, `"${truncate(text)}" has an exponent out of range`);
  }

  // value = coefficient × 10^-scale, and we want value × 10^fractionDigits.
  const coefficient = BigInt(integerDigits + fractionText);
  const shift = fractionDigits - (fractionText.length - exponent);
  let magnitude: bigint;
  if (shift >= 0) {
    magnitude = coefficient * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    if (rounding === 'exact' && coefficient % divisor !== 0n) {
      throw new ValidationError(
        field,
        `"${truncate(text)}" has more than ${fractionDigits} fraction digit${fractionDigits === 1 ? '' : 's'}`,
      );
    }
    magnitude = roundHalfUpDiv(coefficient, divisor);
  }

  if (sign === '-' && magnitude !== 0n && !allowNegative) {
    throw new ValidationError(field, `"${truncate(text)}" must not be negative`);
  }
  if (magnitude > MAX_SAFE) {
    throw new ValidationError(field, `"${truncate(text)}" is too large`);
  }
  // `magnitude === 0n` covers "-0": return +0, never -0.
  return sign === '-' && magnitude !== 0n ? -Number(magnitude) : Number(magnitude);
}

/**
 * Formats an integer count of 10^-fractionDigits units as the shortest decimal text:
 * (344271, 2) → "3442.71", (1593100, 2) → "15931", (93960, 2) → "939.6".
 */
export function formatMinor(minor: number | bigint, fractionDigits: number): string {
  if (typeof minor === 'number' && !Number.isSafeInteger(minor)) {
    throw new RangeError(`formatMinor needs a safe integer, got ${minor}`);
  }
  if (!Number.isInteger(fractionDigits) || fractionDigits < 0) {
    throw new RangeError(`fractionDigits must be a non-negative integer, got ${fractionDigits}`);
  }
  const value = BigInt(minor);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(fractionDigits + 1, '0');
  const integerPart = digits.slice(0, digits.length - fractionDigits);
  const fractionPart = digits.slice(digits.length - fractionDigits).replace(/0+$/, '');
  return (negative ? '-' : '') + integerPart + (fractionPart ? `.${fractionPart}` : '');
}

/**
 * numerator / denominator rounded half away from zero (commercial rounding: 1.005 → 1.01, -1.005 → -1.01).
 * Banker's rounding would give 1.00 and is exactly what must not happen (docs/protocol/bridge-api-v2.md §5).
 */
export function roundHalfUpDiv(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('roundHalfUpDiv: division by zero');
  if (denominator < 0n) return roundHalfUpDiv(-numerator, -denominator);
  const negative = numerator < 0n;
  const absolute = negative ? -numerator : numerator;
  const quotient = absolute / denominator;
  const remainder = absolute % denominator;
  const rounded = remainder * 2n >= denominator ? quotient + 1n : quotient;
  return negative ? -rounded : rounded;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
