import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import {
  isVatType,
  parseBridgeTaxRate,
  taxPercent,
  VAT_TYPE_NAMES,
  type VatType,
  vatAmountMinor,
  vatRatePercent,
  vatTypeFromPercent,
} from './vat.js';

describe('VAT types', () => {
  it('has ATOL names with their rates', () => {
    expect(VAT_TYPE_NAMES).toEqual([
      'none',
      'vat0',
      'vat5',
      'vat7',
      'vat10',
      'vat20',
      'vat22',
      'vat105',
      'vat107',
      'vat110',
      'vat120',
      'vat122',
    ]);
    expect(vatRatePercent('vat22')).toBe(22);
    expect(vatRatePercent('vat107')).toBe(7);
    expect(isVatType('vat20')).toBe(true);
    expect(isVatType('vat18')).toBe(false);
    expect(isVatType('constructor')).toBe(false);
  });

  it('gives the bridge taxPercent: 0 for none, the rate otherwise', () => {
    expect(taxPercent('none')).toBe(0);
    expect(taxPercent('vat0')).toBe(0);
    expect(taxPercent('vat5')).toBe(5);
    expect(taxPercent('vat120')).toBe(20);
  });
});

describe('vatAmountMinor (VAT included in the amount)', () => {
  it('computes the VAT the rule of docs/protocol/bridge-api-v2.md §5 gives, halves up', () => {
    expect(vatAmountMinor(104975, 'vat5')).toBe(4999); // 1049.75 @ 5 % = 49.988… → 49.99
    expect(vatAmountMinor(64650, 'vat7')).toBe(4229); // 646.50 @ 7 % = 42.294… → 42.29
    expect(vatAmountMinor(603, 'vat20')).toBe(101); // 6.03 @ 20 % = 1.005 → 1.01 (banker's: 1.00)
    expect(vatAmountMinor(9999, 'vat22')).toBe(1803); // 99.99 @ 22 % = 18.031… → 18.03
  });

  it('agrees with the tax the POS app sent in public bridge logs (docs/protocol/bridge-api-v2.md §5)', () => {
    expect(vatAmountMinor(2_511_700, 'vat22')).toBe(452_930); // 25117 → "tax": 4529.3
    expect(vatAmountMinor(99_000, 'vat22')).toBe(17_852); // 990 → 178.52
    expect(vatAmountMinor(24_400, 'vat5')).toBe(1_162); // 244 → 11.62
    expect(vatAmountMinor(46_800, 'vat5')).toBe(2_229); // 468 → 22.29
  });

  it('uses the same formula for the calculated forms', () => {
    expect(vatAmountMinor(104975, 'vat105')).toBe(4999);
    expect(vatAmountMinor(64650, 'vat107')).toBe(4229);
    expect(vatAmountMinor(603, 'vat120')).toBe(101);
    expect(vatAmountMinor(9999, 'vat122')).toBe(1803);
    expect(vatAmountMinor(11000, 'vat110')).toBe(1000);
    expect(vatAmountMinor(11000, 'vat10')).toBe(1000);
  });

  it('is zero without VAT and at 0 %', () => {
    expect(vatAmountMinor(344271, 'none')).toBe(0);
    expect(vatAmountMinor(344271, 'vat0')).toBe(0);
    expect(vatAmountMinor(0, 'vat20')).toBe(0);
  });

  it('rounds exact halves up', () => {
    // at 20 % the VAT is amount / 6: amounts 6k + 3 land exactly on a half
    expect(vatAmountMinor(3, 'vat20')).toBe(1); // 0.5 → 1
    expect(vatAmountMinor(9, 'vat20')).toBe(2); // 1.5 → 2
    expect(vatAmountMinor(15, 'vat20')).toBe(3); // 2.5 → 3 (banker's: 2)
    expect(vatAmountMinor(2, 'vat20')).toBe(0); // 0.33 → 0
    // at 5 % the VAT is amount / 21: 21 × 2.5 = 52.5 is not an integer, but 105/21 = 5 exactly
    expect(vatAmountMinor(105, 'vat5')).toBe(5);
  });

  it('stays exact at the largest amounts', () => {
    expect(vatAmountMinor(1_000_000_000_000, 'vat20')).toBe(166_666_666_667);
    expect(vatAmountMinor(Number.MAX_SAFE_INTEGER, 'vat22')).toBe(1_624_249_045_936_900); // exact: …900.016
    expect(() => vatAmountMinor(1.5, 'vat20')).toThrow(RangeError);
  });

  it('never exceeds the amount and is within half a unit of the exact VAT (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000_000_000 }),
        fc.constantFrom<VatType>(...VAT_TYPE_NAMES),
        (amountMinor, vat) => {
          const vatMinor = vatAmountMinor(amountMinor, vat);
          expect(vatMinor).toBeGreaterThanOrEqual(0);
          expect(vatMinor).toBeLessThanOrEqual(amountMinor);
          const rate = BigInt(vatRatePercent(vat));
          const error = 2n * (BigInt(vatMinor) * (100n + rate) - BigInt(amountMinor) * rate);
          expect(error >= -(100n + rate) && error <= 100n + rate).toBe(true);
          expect(error).not.toBe(-(100n + rate)); // ties go up
        },
      ),
    );
  });
});

describe('parseBridgeTaxRate', () => {
  it.each<[string, VatType]>([
    ['Без НДС', 'none'],
    ['без ндс', 'none'],
    ['  БЕЗ   НДС ', 'none'],
    ['0%', 'vat0'],
    ['5%', 'vat5'],
    ['7%', 'vat7'],
    ['10%', 'vat10'],
    ['20%', 'vat20'],
    ['22%', 'vat22'],
    [' 20 % ', 'vat20'],
    ['НДС 20%', 'vat20'],
    ['ндс 5 %', 'vat5'],
    ['20/120', 'vat120'],
    ['20%/120%', 'vat120'],
    ['НДС 22/122', 'vat122'],
    ['5/105', 'vat105'],
    ['7 / 107', 'vat107'],
    ['10/110', 'vat110'],
  ])('reads %j as %s', (text, vat) => {
    expect(parseBridgeTaxRate(text)).toBe(vat);
  });

  it.each([
    '',
    '20',
    '18%',
    '12%',
    '20.0%',
    '20,0%',
    'НДС',
    'НДС 20',
    '20/110',
    '0/100',
    '120%',
    '-20%',
    'Без НДС 20%',
    'VAT 20%',
  ])('rejects %j as an unknown tax rate', (text) => {
    expect(() => parseBridgeTaxRate(text)).toThrow(ValidationError);
    expect(() => parseBridgeTaxRate(text, 'products[1].taxrate')).toThrow(
      `products[1].taxrate: unknown tax rate "${text}"`,
    );
  });
});

describe('vatTypeFromPercent', () => {
  it('maps known rates and refuses the others', () => {
    expect(vatTypeFromPercent(0)).toBe('vat0');
    expect(vatTypeFromPercent(5)).toBe('vat5');
    expect(vatTypeFromPercent(20, { calculated: true })).toBe('vat120');
    expect(() => vatTypeFromPercent(12, { field: 'variation.vatPercent' })).toThrow(
      'variation.vatPercent: no VAT type for 12%',
    );
    expect(() => vatTypeFromPercent(0, { calculated: true })).toThrow(/no VAT type for 0% \(calculated\)/);
  });
});
