import { describe, expect, it } from 'vitest';
import { stringifyJsonLossless } from '../../../lib/json.js';
import { validateReceipt } from '../receipt.js';
import { cashTask, openShiftTask, receiptTask, roubles, units } from './tasks.js';

describe('JSON tasks', () => {
  it('writes money as roubles and quantities as units from decimal text, never through a float', () => {
    expect(
      stringifyJsonLossless([roubles(45_550), roubles(1), roubles(100), roubles(99_999_999_999_999)]),
    ).toBe('[455.5,0.01,1,999999999999.99]');
    expect(stringifyJsonLossless([units(1234), units(1000), units(1), units(1500)])).toBe(
      '[1.234,1,0.001,1.5]',
    );
    // 0.1 + 0.2 in kopecks is exact: 30 kopecks are "0.3", not 0.30000000000000004.
    expect(stringifyJsonLossless({ sum: roubles(10 + 20) })).toBe('{"sum":0.3}');
  });

  it('turns a receipt into a sell task in ATOL’s vocabulary, with the marker as the additional attribute (1192)', () => {
    const receipt = validateReceipt({
      type: 'sell',
      taxationType: 'usnIncome',
      operator: { name: 'Иванова А.С.', vatin: '500100732259' },
      clientInfo: { emailOrPhone: '+79161234567' },
      items: [
        {
          type: 'position',
          name: 'Сыр весовой',
          priceKop: 89_900,
          quantityMilli: 350,
          amountKop: 31_465,
          tax: { type: 'vat10' },
          measurementUnit: 'kilogram',
        },
        { type: 'text', text: 'Спасибо!' },
      ],
      payments: [{ type: 'cash', sumKop: 40_000 }],
      marker: 'lx3k9a2b4f7q',
    });
    expect(JSON.parse(stringifyJsonLossless(receiptTask(receipt)))).toEqual({
      type: 'sell',
      taxationType: 'usnIncome',
      electronically: false,
      operator: { name: 'Иванова А.С.', vatin: '500100732259' },
      clientInfo: { emailOrPhone: '+79161234567' },
      items: [
        {
          type: 'position',
          name: 'Сыр весовой',
          price: 899,
          quantity: 0.35,
          amount: 314.65,
          department: 1,
          measurementUnit: 'kilogram',
          paymentMethod: 'fullPayment',
          paymentObject: 'commodity',
          tax: { type: 'vat10' },
        },
        { type: 'text', text: 'Спасибо!' },
        { type: 'additionalAttribute', value: 'lx3k9a2b4f7q', print: true },
      ],
      payments: [{ type: 'cash', sum: 400 }],
      total: 314.65,
    });
  });

  it('builds the shift and cash tasks', () => {
    expect(stringifyJsonLossless(openShiftTask({ name: 'Кассир' }))).toBe(
      '{"type":"openShift","operator":{"name":"Кассир"}}',
    );
    expect(stringifyJsonLossless(cashTask('cashIn', 150_000))).toBe('{"type":"cashIn","cashSum":1500}');
  });
});
