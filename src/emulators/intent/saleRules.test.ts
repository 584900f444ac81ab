import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SEED_NO_CASHIER_REQUEST,
  SEED_PRICE_LIMIT_REQUEST,
  SEED_SUCCESS_REQUEST,
} from '../../../test/intent/seedExamples.js';
import { type ParsedWireSale, wireSaleSchema } from '../../drivers/intent/wireSale.js';
import { parseJsonLossless } from '../../lib/json.js';
import { checkSale, LINE_SUM_TOO_LARGE_TEXT, type SaleCheck, UNDERPAID_TEXT } from './saleRules.js';

const parse = (text: string): ParsedWireSale => wireSaleSchema.parse(parseJsonLossless(text));

function sale(items: object[], extra: object = {}): ParsedWireSale {
  return wireSaleSchema.parse({
    cashier: 'Кассир',
    itemList: items,
    cash: '0',
    cashless: '0',
    certificate: '0',
    ...extra,
  });
}

function refusal(check: SaleCheck): number | undefined {
  return check.ok ? undefined : check.resultCode;
}

describe('checkSale on the vendor examples', () => {
  it("computes the vendor's 7.97 and 7.03 for the example's plain items", () => {
    const request = { ...parse(SEED_NO_CASHIER_REQUEST), cashier: 'Кассир' };
    const check = checkSale(request);
    expect(check.ok && check.sale).toMatchObject({
      totalMinor: 797,
      changeMinor: 703,
      cashMinor: 1500,
      underpaidMinor: 0,
    });
  });

  it('accepts the full success example, applying its markups and receipt modifiers', () => {
    const check = checkSale(parse(SEED_SUCCESS_REQUEST));
    // 4.00 + (0.01 + 50 % → 0.02) + (4.00 − 1 % → 3.96) = 7.98; −10 % → 7.18; +10 → 17.18, paid 15.
    expect(check.ok && check.sale).toMatchObject({ totalMinor: 1718, changeMinor: 0, underpaidMinor: 218 });
    expect(check.ok && check.sale.lines.map((line) => line.lineTotalMinor)).toEqual([400, 2, 396]);
  });

  it('refuses the examples without cashier (435) and over the sum limit (414)', () => {
    expect(checkSale(parse(SEED_NO_CASHIER_REQUEST))).toStrictEqual({
      ok: false,
      resultCode: 435,
      messageDetail: 'Не передано имя кассира',
    });
    expect(checkSale(parse(SEED_PRICE_LIMIT_REQUEST))).toStrictEqual({
      ok: false,
      resultCode: 414,
      messageDetail: LINE_SUM_TOO_LARGE_TEXT,
    });
  });
});

describe('checkSale limits', () => {
  it.each([
    ['a negative price', { codeNumber: '1', price: '-1', amount: '1' }, 403],
    ['a price over 99999999999.99', { codeNumber: '1', price: '100000000000', amount: '0.001' }, 403],
    ['a price in fractions of a kopeck', { codeNumber: '1', price: '1.005', amount: '1' }, 403],
    ['a quantity under 0.001', { codeNumber: '1', price: '1', amount: '0' }, 415],
    ['a negative quantity', { codeNumber: '1', price: '1', amount: '-2' }, 415],
    ['a quantity over 9999.999', { codeNumber: '1', price: '1', amount: '10000' }, 416],
    ['an absurd quantity', { codeNumber: '1', price: '1', amount: '123456789012345678901' }, 416],
    ['a quantity with four decimals', { codeNumber: '1', price: '1', amount: '1.0001' }, 413],
    ['a zero total', { codeNumber: '1', price: '0', amount: '1' }, 402],
    ['a discount above the line', { codeNumber: '1', price: '1', amount: '1', discount: '2' }, 404],
    [
      'a discount over 100 %',
      { codeNumber: '1', price: '1', amount: '1', isPercentDiscount: true, discount: '101' },
      404,
    ],
  ])('refuses %s', (_label, item, resultCode) => {
    expect(refusal(checkSale(sale([item], { cash: '1' })))).toBe(resultCode);
  });

  it('refuses a receipt discount larger than the subtotal (404)', () => {
    const check = checkSale(
      sale([{ codeNumber: '1', price: '5', amount: '1' }], { chequeDiscount: '6', isPercentDiscount: false }),
    );
    expect(refusal(check)).toBe(404);
  });

  it('refuses an underpaid sale only when strict', () => {
    const underpaid = sale([{ codeNumber: '1', price: '5', amount: '1' }], { cash: '4.99' });
    expect(checkSale(underpaid).ok).toBe(true);
    expect(checkSale(underpaid, { strictPayment: true })).toStrictEqual({
      ok: false,
      resultCode: 399,
      messageDetail: UNDERPAID_TEXT,
    });
  });

  it('rounds percents half up to the kopeck', () => {
    // 10 % of 0.05 is 0.005, which rounds half up to 0.01 off, leaving 0.04.
    const check = checkSale(
      sale([{ codeNumber: '1', price: '0.05', amount: '1', isPercentDiscount: true, discount: '10' }], {
        cash: '1',
      }),
    );
    expect(check.ok && check.sale.totalMinor).toBe(4);
  });
});

describe('checkSale arithmetic (property)', () => {
  it('totals price × quantity exactly and pays change to the kopeck', () => {
    const item = fc.record({
      priceMinor: fc.integer({ min: 1, max: 10_000_000 }),
      quantityMilli: fc.integer({ min: 1, max: 9_999_999 }),
    });
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (items, extra) => {
          const lines = items.map(({ priceMinor, quantityMilli }) => {
            const product = BigInt(priceMinor) * BigInt(quantityMilli);
            return (product + 500n) / 1000n;
          });
          const expected = Number(lines.reduce((sum, line) => sum + line, 0n));
          const wire = items.map(({ priceMinor, quantityMilli }, index) => ({
            codeNumber: String(index),
            price: `${Math.floor(priceMinor / 100)}.${String(priceMinor % 100).padStart(2, '0')}`,
            amount: `${Math.floor(quantityMilli / 1000)}.${String(quantityMilli % 1000).padStart(3, '0')}`,
          }));
          const paid = expected + extra;
          const check = checkSale(
            sale(wire, { cash: `${Math.floor(paid / 100)}.${String(paid % 100).padStart(2, '0')}` }),
          );
          if (expected < 1) {
            expect(refusal(check)).toBe(402);
            return;
          }
          expect(check.ok && check.sale.totalMinor).toBe(expected);
          expect(check.ok && check.sale.changeMinor).toBe(extra);
        },
      ),
      { numRuns: 300 },
    );
  });
});
