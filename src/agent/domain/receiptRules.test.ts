import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { type Bill, buildBill, buildPosition, changeMinor, settledPayments, validateBill } from './bill.js';
import {
  isCorrection,
  isReturn,
  kindOf,
  operationOf,
  paysOut,
  RECEIPT_KIND_NAMES,
  returnKindOf,
} from './receiptKind.js';
import { assertReceiptRules, ReceiptRuleError } from './receiptRules.js';

const base = (overrides: Partial<Bill> = {}): Bill =>
  buildBill({
    source: 'mqtt',
    account: 'shop',
    billId: 'b1',
    number: '1',
    currency: 'RUB',
    positions: [buildPosition({ name: 'Чайник', priceMinor: 250_000, quantityMilli: 1000, vat: 'vat22' })],
    payments: 'card',
    ...overrides,
  });

function refusal(run: () => void): ReceiptRuleError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ReceiptRuleError);
    expect(error).toBeInstanceOf(ValidationError);
    return error as ReceiptRuleError;
  }
  throw new Error('expected a refusal');
}

describe('receipt kinds', () => {
  it('pairs each operation with its correction and its return', () => {
    expect(RECEIPT_KIND_NAMES).toHaveLength(8);
    expect(kindOf('sell', true)).toBe('sellCorrection');
    expect(kindOf('buyReturn', true)).toBe('buyReturnCorrection');
    expect(operationOf('sellReturnCorrection')).toBe('sellReturn');
    expect(returnKindOf('sell')).toBe('sellReturn');
    expect(returnKindOf('buyCorrection')).toBe('buyReturnCorrection');
    expect(returnKindOf('sellReturn')).toBeUndefined();
    expect(isReturn('buyReturnCorrection')).toBe(true);
    expect(isCorrection('buy')).toBe(false);
    expect(
      ['sellReturn', 'buy', 'sellReturnCorrection', 'buyCorrection'].every((k) => paysOut(k as never)),
    ).toBe(true);
    expect(paysOut('sell')).toBe(false);
  });
});

describe('change', () => {
  it('lets cash exceed the total and reports the change and the settled payments', () => {
    const bill = base({ payments: [{ type: 'cash', amountMinor: 300_000 }] });
    expect(changeMinor(bill)).toBe(50_000);
    expect(settledPayments(bill)).toEqual([{ type: 'cash', amountMinor: 250_000 }]);
    expect(() => assertReceiptRules(bill, 'sell')).not.toThrow();
  });

  it('takes the change out of cash in a split payment, never out of a card', () => {
    const bill = base({
      payments: [
        { type: 'card', amountMinor: 200_000 },
        { type: 'cash', amountMinor: 100_000 },
      ],
    });
    expect(settledPayments(bill)).toEqual([
      { type: 'card', amountMinor: 200_000 },
      { type: 'cash', amountMinor: 50_000 },
    ]);
  });

  it('refuses an overpaid card, naming payments', () => {
    expect(() => base({ payments: [{ type: 'card', amountMinor: 300_000 }] })).toThrow(
      /only cash can be overpaid/,
    );
  });

  it('refuses change on anything but a sale', () => {
    const bill = base({ payments: [{ type: 'cash', amountMinor: 300_000 }] });
    const error = refusal(() => assertReceiptRules(bill, 'sellReturn'));
    expect(error.code).toBe('CHANGE_NOT_ALLOWED');
    expect(error.field).toBe('payments');
  });
});

describe('corrections', () => {
  it('needs the date of the corrected settlement', () => {
    const error = refusal(() => assertReceiptRules(base(), 'sellCorrection'));
    expect(error.code).toBe('CORRECTION_BASIS_MISSING');
    expect(error.field).toBe('correction.baseDate');
  });

  it("needs the order's number when made by order", () => {
    const bill = base({ correction: { type: 'instruction', baseDate: '2026-03-01' } });
    expect(refusal(() => assertReceiptRules(bill, 'sellCorrection')).field).toBe('correction.baseNumber');
    const ordered = base({
      correction: { type: 'instruction', baseDate: '2026-03-01', baseNumber: '12-34' },
    });
    expect(() => assertReceiptRules(ordered, 'sellCorrection')).not.toThrow();
  });

  it('refuses correction data on a plain receipt', () => {
    const bill = base({ correction: { type: 'self', baseDate: '2026-03-01' } });
    expect(refusal(() => assertReceiptRules(bill, 'sell')).code).toBe('CORRECTION_NOT_EXPECTED');
  });

  it('refuses a date that is not YYYY-MM-DD at the schema', () => {
    expect(() => validateBill({ ...base(), correction: { type: 'self', baseDate: '01.03.2026' } })).toThrow(
      /correction\.baseDate/,
    );
  });
});

describe('advances', () => {
  const advance = (vat: 'vat22' | 'vat122', paymentObject: 'payment' | 'commodity' = 'payment') =>
    base({
      positions: [
        buildPosition({
          name: 'Аванс по заказу 17',
          priceMinor: 100_000,
          quantityMilli: 1000,
          vat,
          paymentMethod: 'advance',
          paymentObject,
        }),
      ],
    });

  it('refuses an advance at a plain rate, naming the position and the calculated one', () => {
    const error = refusal(() => assertReceiptRules(advance('vat22'), 'sell'));
    expect(error.code).toBe('ADVANCE_VAT_NOT_CALCULATED');
    expect(error.field).toBe('positions[0].vat');
    expect(error.message).toMatch(/vat122/);
  });

  it('accepts 22/122 and wants a payment as the subject of an advance (1212 = 10)', () => {
    expect(() => assertReceiptRules(advance('vat122'), 'sell')).not.toThrow();
    const error = refusal(() => assertReceiptRules(advance('vat122', 'commodity'), 'sell'));
    expect(error.code).toBe('ADVANCE_PAYMENT_OBJECT');
    expect(error.field).toBe('positions[0].paymentObject');
  });

  it('needs the order of a final receipt that offsets a prepayment', () => {
    const final = base({
      payments: [
        { type: 'prepaid', amountMinor: 100_000 },
        { type: 'cash', amountMinor: 150_000 },
      ],
    });
    expect(refusal(() => assertReceiptRules(final, 'sell')).code).toBe('ORDER_REQUIRED');
    expect(() => assertReceiptRules({ ...final, order: 'order-17' }, 'sell')).not.toThrow();
    // An advance receipted elsewhere (the source vouches, docs/bridge.md) is on no ledger: no order needed.
    expect(() => assertReceiptRules({ ...final, prepaidElsewhere: true }, 'sell')).not.toThrow();
  });

  it('refuses a prepaid payment for another advance', () => {
    const bill = {
      ...advance('vat122'),
      order: 'o',
      payments: [{ type: 'prepaid' as const, amountMinor: 100_000 }],
    };
    expect(refusal(() => assertReceiptRules(bill, 'sell')).field).toBe('payments[0].type');
  });
});

describe('credit', () => {
  const onCredit = (method: 'credit' | 'partialPayment') =>
    base({
      positions: [
        buildPosition({
          name: 'Диван',
          priceMinor: 250_000,
          quantityMilli: 1000,
          vat: 'vat22',
          paymentMethod: method,
        }),
      ],
    });

  it('takes a credit payment only for goods handed over on credit', () => {
    const bill = base({ payments: [{ type: 'credit', amountMinor: 250_000 }] });
    expect(refusal(() => assertReceiptRules(bill, 'sell')).code).toBe('PAYMENT_TYPE_NOT_ALLOWED');
    expect(() =>
      assertReceiptRules(
        { ...onCredit('credit'), payments: [{ type: 'credit', amountMinor: 250_000 }] },
        'sell',
      ),
    ).not.toThrow();
  });

  it('wants the whole of a credit transfer (1214 = 6) as credit', () => {
    const error = refusal(() => assertReceiptRules(onCredit('credit'), 'sell'));
    expect(error.field).toBe('payments');
  });

  it('accepts a partial payment with the rest on credit (1214 = 5)', () => {
    const bill = {
      ...onCredit('partialPayment'),
      payments: [
        { type: 'cash' as const, amountMinor: 50_000 },
        { type: 'credit' as const, amountMinor: 200_000 },
      ],
    };
    expect(() => assertReceiptRules(bill, 'sell')).not.toThrow();
  });

  it('needs the order of a credit repayment (1214 = 7)', () => {
    const repayment = base({
      positions: [
        buildPosition({
          name: 'Оплата кредита',
          priceMinor: 100_000,
          quantityMilli: 1000,
          vat: 'none',
          paymentMethod: 'creditPayment',
          paymentObject: 'payment',
        }),
      ],
    });
    expect(refusal(() => assertReceiptRules(repayment, 'sell')).code).toBe('ORDER_REQUIRED');
  });
});

describe('e-receipts', () => {
  it("refuses an internet settlement without the buyer's contact (1125 needs 1008)", () => {
    const error = refusal(() => assertReceiptRules(base({ internet: true }), 'sell'));
    expect(error.code).toBe('CUSTOMER_CONTACT_REQUIRED');
    expect(error.field).toBe('customer.emailOrPhone');
    const withContact = base({ internet: true, customer: { emailOrPhone: 'buyer@example.ru' } });
    expect(() => assertReceiptRules(withContact, 'sell')).not.toThrow();
  });

  it('refuses an electronic-only receipt without a contact', () => {
    expect(refusal(() => assertReceiptRules(base({ electronicOnly: true }), 'sell')).field).toBe(
      'customer.emailOrPhone',
    );
  });

  it('refuses a relation on a receipt that neither returns nor corrects', () => {
    const error = refusal(() => assertReceiptRules(base({ relatesTo: { jobId: 'abc' } }), 'sell'));
    expect(error.code).toBe('RELATION_NOT_EXPECTED');
    expect(() => assertReceiptRules(base({ relatesTo: { jobId: 'abc' } }), 'sellReturn')).not.toThrow();
  });
});
