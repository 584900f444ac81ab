import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { LosslessNumber } from '../../lib/json.js';
import {
  assertAmountMinor,
  CURRENCIES,
  currencyOf,
  formatMoney,
  isAmountMinor,
  isCurrencyCode,
  jsonMoneyMinor,
  MAX_AMOUNT_MINOR,
  mulDivHalfUp,
  parseMoneyMinor,
  sumMinor,
} from './money.js';

describe('currencies', () => {
  it('knows the minor digits of RUB, BYN and UZS', () => {
    expect(currencyOf('RUB').minorDigits).toBe(2);
    expect(currencyOf('BYN').minorDigits).toBe(2);
    expect(currencyOf('UZS').minorDigits).toBe(0);
    expect(Object.keys(CURRENCIES)).toEqual(['RUB', 'BYN', 'UZS']);
  });

  it('rejects unknown codes, naming the field', () => {
    expect(isCurrencyCode('USD')).toBe(false);
    expect(isCurrencyCode('toString')).toBe(false);
    expect(() => currencyOf('USD')).toThrow('currency: unknown currency "USD" (known: RUB, BYN, UZS)');
    expect(() => currencyOf('rub', 'bill.currency')).toThrow(ValidationError);
  });
});

describe('parseMoneyMinor', () => {
  it('parses major-unit text into minor units per currency', () => {
    expect(parseMoneyMinor('3442.71', 'RUB', { field: 'summ' })).toBe(344271);
    expect(parseMoneyMinor('15931', 'RUB', { field: 'summ' })).toBe(1593100);
    expect(parseMoneyMinor('12.3', 'BYN', { field: 'summ' })).toBe(1230);
    expect(parseMoneyMinor('3000', 'UZS', { field: 'price' })).toBe(3000);
  });

  it('rejects fractions UZS does not have, and sub-kopeck amounts unless rounding is asked for', () => {
    expect(() => parseMoneyMinor('3000.5', 'UZS', { field: 'price' })).toThrow(
      'price: "3000.5" has more than 0 fraction digits',
    );
    expect(() => parseMoneyMinor('0.005', 'RUB', { field: 'summ' })).toThrow(/more than 2 fraction digits/);
    expect(parseMoneyMinor('0.005', 'RUB', { field: 'summ', rounding: 'halfUp' })).toBe(1);
    expect(parseMoneyMinor('3000.5', 'UZS', { field: 'price', rounding: 'halfUp' })).toBe(3001);
  });

  it('rejects negative amounts and amounts beyond 10^12 minor units', () => {
    expect(() => parseMoneyMinor('-1', 'RUB', { field: 'summ' })).toThrow('summ: "-1" must not be negative');
    expect(parseMoneyMinor('10000000000', 'RUB', { field: 'summ' })).toBe(MAX_AMOUNT_MINOR);
    expect(() => parseMoneyMinor('10000000000.01', 'RUB', { field: 'summ' })).toThrow(/exceeds the limit/);
    expect(parseMoneyMinor('1000000000000', 'UZS', { field: 'summ' })).toBe(MAX_AMOUNT_MINOR);
    expect(() => parseMoneyMinor('1000000000001', 'UZS', { field: 'summ' })).toThrow(/exceeds the limit/);
  });
});

describe('formatMoney', () => {
  it('writes the shortest major-unit text', () => {
    expect(formatMoney(344271, 'RUB')).toBe('3442.71');
    expect(formatMoney(1593100, 'RUB')).toBe('15931');
    expect(formatMoney(93960, 'RUB')).toBe('939.6');
    expect(formatMoney(3000, 'UZS')).toBe('3000');
  });
});

describe('jsonMoneyMinor', () => {
  it('turns lossless JSON numbers into minor units of the currency', () => {
    expect(jsonMoneyMinor('RUB').parse(new LosslessNumber('3442.71'))).toBe(344271);
    expect(jsonMoneyMinor('UZS').parse(new LosslessNumber('3000'))).toBe(3000);
    expect(jsonMoneyMinor('UZS').safeParse(new LosslessNumber('3000.5')).success).toBe(false);
    expect(jsonMoneyMinor('RUB').safeParse(new LosslessNumber('10000000000.01')).success).toBe(false);
    expect(jsonMoneyMinor('RUB', 'halfUp').parse(new LosslessNumber('1.005'))).toBe(101);
  });
});

describe('amount checks and arithmetic', () => {
  it('accepts only safe non-negative integers up to the limit', () => {
    expect(isAmountMinor(0)).toBe(true);
    expect(isAmountMinor(MAX_AMOUNT_MINOR)).toBe(true);
    expect(isAmountMinor(MAX_AMOUNT_MINOR + 1)).toBe(false);
    expect(isAmountMinor(1.5)).toBe(false);
    expect(isAmountMinor(-1)).toBe(false);
    expect(isAmountMinor('1')).toBe(false);
    expect(() => assertAmountMinor(12.5, 'priceMinor')).toThrow('priceMinor: expected an integer amount');
    expect(() => assertAmountMinor(Number.NaN, 'priceMinor')).toThrow(ValidationError);
    expect(() => assertAmountMinor(-1, 'priceMinor')).toThrow('priceMinor: must not be negative, got -1');
  });

  it('sums exactly and reports overflow instead of rounding', () => {
    expect(sumMinor([311100, 659800, 481200, 141000])).toBe(1593100);
    expect(sumMinor([])).toBe(0);
    expect(() => sumMinor([Number.MAX_SAFE_INTEGER, 1], 'payments')).toThrow(
      'payments: the amount is too large',
    );
    expect(() => sumMinor([0.5])).toThrow(ValidationError);
  });

  it('multiplies through bigint so products beyond 2^53 stay exact', () => {
    // 10^12 × 9 999 999 999 / 1000 is exact only in bigint; the result is too large for a number.
    expect(() => mulDivHalfUp(MAX_AMOUNT_MINOR, 9_999_999_999, 1000)).toThrow(/too large/);
    expect(mulDivHalfUp(1_000_000_007, 9_000_001, 1_000_000)).toBe(9_000_001_063);
    expect(mulDivHalfUp(1, 1, 2)).toBe(1);
  });
});
