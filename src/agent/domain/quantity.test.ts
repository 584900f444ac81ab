import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LosslessNumber } from '../../lib/json.js';
import {
  formatQuantity,
  isQuantityMilli,
  jsonQuantityMilli,
  lineAmountMinor,
  MAX_QUANTITY_MILLI,
  parseQuantityMilli,
} from './quantity.js';

describe('parseQuantityMilli', () => {
  it('parses units into thousandths', () => {
    expect(parseQuantityMilli('1')).toBe(1000);
    expect(parseQuantityMilli('0.25')).toBe(250);
    expect(parseQuantityMilli('0.001')).toBe(1);
    expect(parseQuantityMilli('85')).toBe(85000);
    expect(parseQuantityMilli('1e2')).toBe(100000);
    expect(parseQuantityMilli('9999999.999')).toBe(MAX_QUANTITY_MILLI);
  });

  it('rejects a fourth fraction digit, zero, negatives and oversize values, naming the field', () => {
    expect(() => parseQuantityMilli('1.0005', 'products[0].quantity')).toThrow(
      'products[0].quantity: "1.0005" has more than 3 fraction digits',
    );
    expect(() => parseQuantityMilli('0')).toThrow('quantity: quantity must be greater than 0');
    expect(() => parseQuantityMilli('0.000')).toThrow(/greater than 0/);
    expect(() => parseQuantityMilli('-1')).toThrow(/must not be negative/);
    expect(() => parseQuantityMilli('10000000')).toThrow(/exceeds 9999999.999/);
  });

  it('formats thousandths back as units', () => {
    expect(formatQuantity(250)).toBe('0.25');
    expect(formatQuantity(85000)).toBe('85');
    expect(formatQuantity(1)).toBe('0.001');
  });

  it('has a zod helper for lossless JSON', () => {
    expect(jsonQuantityMilli().parse(new LosslessNumber('0.250'))).toBe(250);
    expect(jsonQuantityMilli().safeParse(new LosslessNumber('0')).success).toBe(false);
    expect(jsonQuantityMilli().safeParse(new LosslessNumber('0.0001')).success).toBe(false);
    expect(isQuantityMilli(1)).toBe(true);
    expect(isQuantityMilli(0)).toBe(false);
  });
});

describe('lineAmountMinor (price × quantity, half-up)', () => {
  it('prices per kilogram times a weighed quantity', () => {
    expect(lineAmountMinor(123457, 250)).toBe(30864); // 1234.57 × 0.250 = 308.6425 → 308.64
    expect(lineAmountMinor(9999, 255)).toBe(2550); // 99.99 × 0.255 = 25.49745 → 25.50
    expect(lineAmountMinor(130500, 85)).toBe(11093); // 1305.00/kg × 0.085 kg = 110.925 → 110.93
  });

  it('prices per gram times grams (tea by the gram, docs/protocol/bridge-api-v2.md §4)', () => {
    expect(lineAmountMinor(1235, 85000)).toBe(104975); // 12.35 × 85 = 1049.75
    expect(lineAmountMinor(1305, 85000)).toBe(110925); // 13.05 × 85 = 1109.25
  });

  it('rounds exact halves up', () => {
    expect(lineAmountMinor(1, 500)).toBe(1); // 0.01 × 0.5 = 0.005 → 0.01
    expect(lineAmountMinor(1, 499)).toBe(0);
    expect(lineAmountMinor(3, 500)).toBe(2); // 0.015 → 0.02
    expect(lineAmountMinor(5, 500)).toBe(3); // 0.025 → 0.03, banker's would say 0.02
  });

  it('works for UZS with no minor digits', () => {
    expect(lineAmountMinor(3000, 2000)).toBe(6000);
    expect(lineAmountMinor(3001, 500)).toBe(1501); // 1500.5 so'm → 1501
  });

  it('handles products beyond 2^53 exactly', () => {
    expect(lineAmountMinor(1_000_000_000_000, 1000)).toBe(1_000_000_000_000);
    // 900 719 925 474 × 9 999 999 = 9 007 198 354 020 074 526 thousandths: far past 2^53 before dividing.
    expect(lineAmountMinor(900_719_925_474, 9_999_999)).toBe(9_007_198_354_020_075);
    expect(() => lineAmountMinor(1_000_000_000_000, 9_999_999_999)).toThrow(/too large/);
  });

  it('is within half a minor unit of the exact product (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 900_000_000_000 }),
        fc.integer({ min: 1, max: 9_999_999 }),
        (priceMinor, quantityMilli) => {
          const amount = BigInt(lineAmountMinor(priceMinor, quantityMilli));
          const exact1000 = BigInt(priceMinor) * BigInt(quantityMilli);
          const error2000 = 2n * (amount * 1000n - exact1000);
          expect(error2000 >= -1000n && error2000 <= 1000n).toBe(true);
          // half-up: a tie is always rounded up
          if (error2000 === -1000n) throw new Error('a tie was rounded down');
        },
      ),
    );
  });
});
