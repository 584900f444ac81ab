import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import {
  FULL_PERCENT_BASIS_POINTS,
  MAX_QUANTITY_MILLI,
  MAX_SUM_MINOR,
  MIN_QUANTITY_MILLI,
  moneyToWire,
  percentToWire,
  quantityToWire,
  wireToBasisPoints,
  wireToMoneyMinor,
  wireToQuantityMilli,
} from './wireDecimal.js';

describe('money on the wire', () => {
  it('writes the shortest decimal text, as the vendor examples do', () => {
    expect(moneyToWire(797)).toBe('7.97');
    expect(moneyToWire(1500)).toBe('15');
    expect(moneyToWire(999_998)).toBe('9999.98');
    expect(moneyToWire(10)).toBe('0.1');
    expect(moneyToWire(1)).toBe('0.01');
    expect(moneyToWire(0)).toBe('0');
    expect(moneyToWire(MAX_SUM_MINOR)).toBe('99999999999.99');
  });

  it('reads decimal text exactly, trailing zeros included', () => {
    expect(wireToMoneyMinor('7.97', 'total')).toBe(797);
    expect(wireToMoneyMinor('7.03', 'change')).toBe(703);
    expect(wireToMoneyMinor('15', 'sum')).toBe(1500);
    expect(wireToMoneyMinor('7.970', 'total')).toBe(797);
    expect(wireToMoneyMinor('0.10', 'total')).toBe(10);
    expect(wireToMoneyMinor('99999999999.99', 'total')).toBe(MAX_SUM_MINOR);
  });

  it('refuses fractions of a kopeck, commas and signs rather than guessing', () => {
    expect(() => wireToMoneyMinor('7.975', 'total')).toThrow(ValidationError);
    expect(() => wireToMoneyMinor('7,97', 'total')).toThrow(ValidationError);
    expect(() => wireToMoneyMinor('-1', 'total')).toThrow(ValidationError);
    expect(() => wireToMoneyMinor('', 'total')).toThrow(ValidationError);
    expect(wireToMoneyMinor('-1.5', 'price', true)).toBe(-150);
  });

  it('round-trips every amount from 0 to the terminal ceiling (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SUM_MINOR }), (minor) => {
        const text = moneyToWire(minor);
        expect(text).toMatch(/^(0|[1-9]\d*)(\.\d?[1-9])?$/);
        expect(wireToMoneyMinor(text, 'x')).toBe(minor);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with an independent reading of roubles and kopecks (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 99_999_999_999 }),
        fc.integer({ min: 0, max: 99 }),
        (roubles, kopecks) => {
          const text = `${roubles}.${String(kopecks).padStart(2, '0')}`;
          expect(wireToMoneyMinor(text, 'x')).toBe(roubles * 100 + kopecks);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('quantities and percents on the wire', () => {
  it('writes thousandths as the vendor writes quantities', () => {
    expect(quantityToWire(1000)).toBe('1');
    expect(quantityToWire(9_999_990)).toBe('9999.99');
    expect(quantityToWire(250)).toBe('0.25');
    expect(quantityToWire(1)).toBe('0.001');
    expect(wireToQuantityMilli('9999.999', 'amount')).toBe(MAX_QUANTITY_MILLI);
    expect(() => wireToQuantityMilli('0.0005', 'amount')).toThrow(ValidationError);
  });

  it('round-trips every quantity in the documented bounds (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_QUANTITY_MILLI, max: MAX_QUANTITY_MILLI }), (quantityMilli) => {
        expect(wireToQuantityMilli(quantityToWire(quantityMilli), 'amount')).toBe(quantityMilli);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes basis points as percent text and reads them back (property)', () => {
    expect(percentToWire(1000)).toBe('10');
    expect(percentToWire(1250)).toBe('12.5');
    expect(wireToBasisPoints('50', 'increase')).toBe(5000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: FULL_PERCENT_BASIS_POINTS * 100 }), (basisPoints) => {
        expect(wireToBasisPoints(percentToWire(basisPoints), 'p')).toBe(basisPoints);
      }),
    );
  });
});
