import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors.js';
import { type Bill, buildBill, buildPosition } from '../../domain/bill.js';
import { billToIntentSale } from './intentDevice.js';

function bynBill(names: string[]): Bill {
  return buildBill({
    source: 'mqtt',
    account: 'minsk',
    billId: 'b1',
    number: '1',
    currency: 'BYN',
    positions: names.map((name) =>
      buildPosition({ name, priceMinor: 450, quantityMilli: 1000, vat: 'none' }),
    ),
    payments: 'cash',
  });
}

const options = { cashier: 'Кассир', printCheque: true };

describe('billToIntentSale: text for the SmartX terminal (UTF-8 JSON)', () => {
  it('keeps typography and Belarusian letters, turns odd spaces into plain ones, drops invisible characters', () => {
    const sale = billToIntentSale(bynBill(['Гарбата «Лясная» — 50\u00a0г\u200b', 'Хлеб “Бярозка”']), options);
    expect(sale.itemList.map((item) => item.nameTitle)).toEqual([
      'Гарбата «Лясная» — 50 г',
      'Хлеб “Бярозка”',
    ]);
  });

  it('refuses a control character naming the field; the configured cashier is named "cashier"', () => {
    const bill = bynBill(['Хлеб']);
    bill.positions[0]!.name = 'Хлеб\n';
    expect(() => billToIntentSale(bill, options)).toThrow(ValidationError);
    try {
      billToIntentSale(bill, options);
    } catch (error) {
      expect((error as ValidationError).code).toBe('TEXT_CONTROL_CHARACTER');
      expect((error as ValidationError).field).toBe('positions[0].name');
    }
    expect(() => billToIntentSale(bynBill(['Хлеб']), { ...options, cashier: 'Кас\u0007сир' })).toThrow(
      /^cashier: contains the control character U\+0007/,
    );
  });

  it("names the bill's own cashier where it has one, else the configured one", () => {
    expect(billToIntentSale(bynBill(['Хлеб']), options).cashier).toBe('Кассир');
    expect(billToIntentSale({ ...bynBill(['Хлеб']), cashier: { name: 'Іванова' } }, options).cashier).toBe(
      'Іванова',
    );
  });
});

describe('Belarusian marks reach the SmartX SALE', () => {
  it("carries a position's СИ and УКЗ as the SALE example's markings (seed 002: one object per mark)", () => {
    const bill = buildBill({
      source: 'mqtt',
      account: 'minsk',
      billId: 'b2',
      number: '2',
      currency: 'BYN',
      positions: [
        buildPosition({
          name: 'Товар 2',
          priceMinor: 100,
          quantityMilli: 1000,
          vat: 'none',
          identificationMarks: [
            { kind: 'si', value: 'midom0im20m03223d-2-d' },
            { kind: 'ukz', value: '2321987121CAC' },
          ],
        }),
      ],
      payments: 'cash',
    });
    expect(billToIntentSale(bill, options).itemList[0]!.markings).toEqual([
      { si: 'midom0im20m03223d-2-d' },
      { ukz: '2321987121CAC' },
    ]);
  });
});
