import { describe, expect, it } from 'vitest';
import { SEED_SUCCESS_REQUEST } from '../../../test/intent/seedExamples.js';
import { ValidationError } from '../../lib/errors.js';
import { encodeSale, type IntentSale } from './sale.js';
import { wireSaleSchema } from './wireSale.js';

/** The vendor's success example, said in our vocabulary (kopecks, thousandths, basis points). */
const seedSale: IntentSale = {
  cashier: 'Кассир',
  itemList: [
    { nameTitle: 'Товар 1', codeNumber: '1', typeCode: '0', priceMinor: 400, quantityMilli: 1000 },
    {
      nameTitle: 'Товар 2',
      codeNumber: '234002634987',
      typeCode: '1',
      markings: [{ si: 'midom0im20m03223d-2-d' }, { ukz: '2321987121CAC' }],
      priceMinor: 100,
      quantityMilli: 9_999_990,
      discount: { kind: 'amount', amountMinor: 999_998 },
      increase: { kind: 'percent', basisPoints: 5000 },
      section: { code: 123, name: 'бакалея' },
    },
    {
      codeNumber: '20',
      priceMinor: 400,
      quantityMilli: 1000,
      discount: { kind: 'percent', basisPoints: 100 },
    },
  ],
  cashMinor: 1500,
  cashlessMinor: 0,
  certificateMinor: 0,
  chequeIncrease: { kind: 'amount', amountMinor: 1000 },
  chequeDiscount: { kind: 'percent', basisPoints: 1000 },
  tpTaxNumber: 193141246,
  printCheque: false,
  prefix: [
    { kind: 'text', text: 'тексттекст' },
    { kind: 'qrCode', qrCode: 'BASE64' },
  ],
  suffix: [
    { kind: 'text', text: 'тексттекст' },
    { kind: 'qrCode', qrCode: 'BASE64' },
  ],
};

describe('encodeSale', () => {
  it("writes exactly the vendor's success example, types included", () => {
    const wire = encodeSale(seedSale, '123');
    expect(JSON.parse(JSON.stringify(wire))).toStrictEqual(JSON.parse(SEED_SUCCESS_REQUEST));
  });

  it('always sends the three payment fields, and nothing optional that was not given', () => {
    const wire = encodeSale(
      {
        cashier: 'Иванова',
        itemList: [{ codeNumber: '7', priceMinor: 590, quantityMilli: 250 }],
        cashlessMinor: 148,
      },
      'job-1',
    );
    expect(wire).toStrictEqual({
      cashier: 'Иванова',
      itemList: [{ codeNumber: '7', price: '5.9', amount: '0.25' }],
      cash: '0',
      cashless: '1.48',
      certificate: '0',
      operationId: 'job-1',
    });
  });

  it('produces a body the lenient reader accepts unchanged', () => {
    const wire = encodeSale(seedSale, '123');
    const parsed = wireSaleSchema.parse(JSON.parse(JSON.stringify(wire)));
    expect(parsed.itemList[1]?.amount).toBe('9999.99');
    expect(parsed.tpTaxNumber).toBe(193141246);
    expect(parsed.operationId).toBe('123');
  });

  it.each([
    ['an empty cashier', { ...seedSale, cashier: '  ' }, 'sale.cashier'],
    ['no items', { ...seedSale, itemList: [] }, 'sale.itemList'],
    [
      'a fractional kopeck',
      { ...seedSale, itemList: [{ codeNumber: '1', priceMinor: 1.5, quantityMilli: 1000 }] },
      'sale.itemList[0].priceMinor',
    ],
    [
      'a quantity above 9999.999',
      { ...seedSale, itemList: [{ codeNumber: '1', priceMinor: 100, quantityMilli: 10_000_000 }] },
      'sale.itemList[0].quantityMilli',
    ],
    [
      'a zero quantity',
      { ...seedSale, itemList: [{ codeNumber: '1', priceMinor: 100, quantityMilli: 0 }] },
      'sale.itemList[0].quantityMilli',
    ],
    ['a negative payment', { ...seedSale, cashMinor: -1 }, 'sale.cashMinor'],
    [
      'a discount over 100 %',
      { ...seedSale, chequeDiscount: { kind: 'percent', basisPoints: 10_001 } },
      'sale.chequeDiscount.basisPoints',
    ],
  ] as const)('refuses %s before anything is sent', (_label, sale, field) => {
    let caught: unknown;
    try {
      encodeSale(sale as IntentSale, 'job-1');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe(field);
  });

  it('requires an operationId', () => {
    expect(() => encodeSale(seedSale, ' ')).toThrow(ValidationError);
  });
});
