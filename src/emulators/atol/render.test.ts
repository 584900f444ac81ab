import { describe, expect, it } from 'vitest';
import {
  formatMoney,
  formatQuantity,
  formatReceiptDateTime,
  type PrintJob,
  renderPrintout,
  taxationTitle,
} from './render.js';
import { emptyCounters, type StoredPosition } from './state.js';

const header = {
  organizationName: 'ООО "РОМАШКА"',
  address: 'г. Казань, ул. Баумана, д. 10',
  inn: '500100732259',
  registrationNumber: '0001234567012345',
  serial: '00106100000001',
  fnSerial: '7281440500001234',
};
const dateTime = { year: 2026, month: 3, day: 9, hour: 8, minute: 5, second: 59 };

const position = (overrides: Partial<StoredPosition>): StoredPosition => ({
  name: 'Товар',
  priceKop: 10_000,
  quantityMilli: 1_000,
  amountKop: 10_000,
  discountSign: 0,
  discountKop: 0,
  totalKop: 10_000,
  taxCode: 1,
  taxSumKop: 1_667,
  department: 1,
  paymentObject: 1,
  paymentMethod: 4,
  tags: [],
  ...overrides,
});

describe('render', () => {
  it('formats kopecks, thousandths and the receipt date without floats', () => {
    expect(formatMoney(0)).toBe('0.00');
    expect(formatMoney(5)).toBe('0.05');
    expect(formatMoney(99_999_999_999_999)).toBe('999999999999.99');
    expect(formatQuantity(1_000)).toBe('1');
    expect(formatQuantity(350)).toBe('0.35');
    expect(formatQuantity(1_255)).toBe('1.255');
    expect(formatReceiptDateTime(dateTime)).toBe('09.03.26 08:05');
    expect(taxationTitle(0x06)).toBe('УСН доход, УСН доход - расход');
  });

  it('prints a receipt with the fiscal lines, never wider than the model', () => {
    const job: PrintJob = {
      kind: 'receipt',
      header,
      footer: { documentNumber: 1234, fiscalSign: 3_442_353_402, dateTime },
      receiptType: 1,
      positions: [
        position({ name: 'Очень длинное название товара, которое не помещается в одну строку чека' }),
        position({
          name: 'Сыр',
          priceKop: 89_990,
          quantityMilli: 347,
          amountKop: 31_227,
          totalKop: 31_227,
          taxCode: 6,
          taxSumKop: 0,
          tags: [{ tag: 2108, hex: '0b' }],
        }),
      ],
      tenderedByType: new Map([[1, 50_000]]),
      changeKop: 8_773,
      totalKop: 41_227,
      taxationSystem: 0x02,
      cashier: 'Иванова А.С.',
      customerContact: undefined,
      shiftNumber: 42,
      receiptNumber: 17,
      textLines: [],
    };
    const text = renderPrintout(job, 32);
    for (const line of text.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(32);
    for (const expected of [
      'КАССОВЫЙ ЧЕК',
      'ПРИХОД',
      '0.347 кг x 899.90',
      'НДС 20%',
      'БЕЗ НДС',
      'ИТОГ                     =412.27',
      'НАЛИЧНЫМИ                =500.00',
      'БЕЗНАЛИЧНЫМИ               =0.00',
      'СДАЧА                     =87.73',
      'СУММА НДС 20%             =16.67',
      'СУММА БЕЗ НДС            =312.27',
      'СНО                    УСН доход',
      'КАССИР              Иванова А.С.',
      'СМЕНА 42                  ЧЕК 17',
      'РН ККТ          0001234567012345',
      'ЗН ККТ            00106100000001',
      'ИНН                 500100732259',
      'ФН              7281440500001234',
      'ФД 1234            ФП 3442353402',
      '09.03.26 08:05',
    ]) {
      expect(text).toContain(expected);
    }
  });

  it('prints a return receipt title and a Z report with the shift totals', () => {
    const counters = emptyCounters();
    counters.receipts['1'] = 3;
    counters.totals['1'] = 123_400;
    counters.payments['1:1'] = 100_000;
    counters.payments['1:2'] = 23_400;
    const z = renderPrintout(
      {
        kind: 'closeShift',
        header,
        footer: { documentNumber: 9, fiscalSign: 1, dateTime },
        shiftNumber: 4,
        cashier: undefined,
        counters,
        cashKop: 100_000,
        receiptsInShift: 3,
        documentsInShift: 5,
        unsentDocuments: 2,
      },
      48,
    );
    expect(z).toContain('ОТЧЁТ О ЗАКРЫТИИ СМЕНЫ');
    expect(z).toMatch(/ЧЕКОВ ПРИХОД +3\n/);
    expect(z).toMatch(/СУММА ПРИХОД +=1234\.00\n/);
    expect(z).toMatch(/ {2}БЕЗНАЛИЧНЫМИ +=234\.00\n/);
    expect(z).toMatch(/НЕПЕРЕДАННЫХ ФД +2\n/);
    expect(renderPrintout({ kind: 'text', lines: ['a', '', 'b'] }, 32)).toBe('a\n\nb\n');
  });
});
