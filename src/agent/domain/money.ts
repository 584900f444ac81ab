import { type DecimalRounding, formatMinor, parseDecimalToMinor, roundHalfUpDiv } from '../../lib/decimal.js';
import { ValidationError } from '../../lib/errors.js';
import { jsonMinor } from '../../lib/json.js';

/**
 * Money is a plain `number` holding a safe integer count of the currency's minor unit (kopecks, BYN
 * kopecks, whole so'm). Products that could pass 2^53 are computed in bigint.
 */

export interface Currency {
  code: string;
  /** Digits after the decimal point in the source systems and on the receipt. */
  minorDigits: number;
}

/** Add a row to support a new currency; nothing else needs to change. */
export const CURRENCIES = {
  RUB: { code: 'RUB', minorDigits: 2 },
  BYN: { code: 'BYN', minorDigits: 2 },
  // OX System amounts are whole so'm (docs/protocol/oxsystem.md §3); tiyin are not used in practice.
  UZS: { code: 'UZS', minorDigits: 0 },
} as const satisfies Record<string, Currency>;

export type CurrencyCode = keyof typeof CURRENCIES;

export const CURRENCY_CODES = Object.keys(CURRENCIES) as [CurrencyCode, ...CurrencyCode[]];

/**
 * Upper bound for any single amount or total, in minor units: 10^12 kopecks is 10 billion roubles, far
 * beyond a retail receipt, while sums of up to 1000 such values stay well inside 2^53.
 */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000;

export function isCurrencyCode(code: string): code is CurrencyCode {
  return Object.hasOwn(CURRENCIES, code);
}

export function currencyOf(code: string, field = 'currency'): Currency {
  if (!isCurrencyCode(code)) {
    throw new ValidationError(field, `unknown currency "${code}" (known: ${CURRENCY_CODES.join(', ')})`);
  }
  return CURRENCIES[code];
}

export interface ParseMoneyOptions {
  field: string;
  /** Default `exact`: 0.005 RUB is an error, not a guess. */
  rounding?: DecimalRounding;
}

/** Decimal text in major units ("3442.71") → minor units (344271), within 0..MAX_AMOUNT_MINOR. */
export function parseMoneyMinor(text: string, currency: string, options: ParseMoneyOptions): number {
  const { minorDigits } = currencyOf(currency);
  const minor = parseDecimalToMinor(text, minorDigits, {
    field: options.field,
    rounding: options.rounding ?? 'exact',
  });
  assertAmountMinor(minor, options.field);
  return minor;
}

/** Minor units → shortest major-unit text: 344271 RUB → "3442.71", 1593100 → "15931", 93960 → "939.6". */
export function formatMoney(minor: number, currency: string): string {
  return formatMinor(minor, currencyOf(currency).minorDigits);
}

/** A JSON number in major units → minor units (for zod schemas over parseJsonLossless output). */
export function jsonMoneyMinor(currency: string, rounding: DecimalRounding = 'exact') {
  return jsonMinor({ fractionDigits: currencyOf(currency).minorDigits, rounding, max: MAX_AMOUNT_MINOR });
}

export function isAmountMinor(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_AMOUNT_MINOR;
}

export function assertAmountMinor(value: number, field: string): void {
  if (!Number.isSafeInteger(value))
    throw new ValidationError(field, `expected an integer amount in minor units, got ${value}`);
  if (value < 0) throw new ValidationError(field, `must not be negative, got ${value}`);
  if (value > MAX_AMOUNT_MINOR)
    throw new ValidationError(field, `exceeds the limit of ${MAX_AMOUNT_MINOR} minor units`);
}

/** Σ of minor amounts; bigint inside so that overflow is reported, never silently rounded. */
export function sumMinor(amounts: Iterable<number>, field = 'total'): number {
  let total = 0n;
  for (const amount of amounts) {
    if (!Number.isSafeInteger(amount)) throw new ValidationError(field, `not an integer amount: ${amount}`);
    total += BigInt(amount);
  }
  return toSafeNumber(total, field);
}

/** Multiplies by a rational factor and rounds half-up: the one place that does money × fraction. */
export function mulDivHalfUp(
  valueMinor: number,
  multiplier: number | bigint,
  divisor: number | bigint,
  field = 'amount',
): number {
  if (!Number.isSafeInteger(valueMinor))
    throw new ValidationError(field, `not an integer amount: ${valueMinor}`);
  return toSafeNumber(roundHalfUpDiv(BigInt(valueMinor) * BigInt(multiplier), BigInt(divisor)), field);
}

function toSafeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ValidationError(field, 'the amount is too large');
  }
  return Number(value);
}
