import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { MAX_BCD7_KOP } from './commands/receipt.js';
import { positionAmountKop, type ReceiptInput, validateReceipt } from './receipt.js';

const position = (overrides: Record<string, unknown> = {}) => ({
  type: 'position' as const,
  name: 'Капучино 300 мл',
  priceKop: 18_000,
  quantityMilli: 2_000,
  amountKop: 36_000,
  tax: { type: 'vat20' as const },
  ...overrides,
});

const receipt = (overrides: Partial<Record<keyof ReceiptInput, unknown>> = {}) => ({
  type: 'sell',
  items: [position()],
  payments: [{ type: 'electronically', sumKop: 36_000 }],
  ...overrides,
});

function fieldOf(input: unknown): string {
  try {
    validateReceipt(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).field;
  }
  throw new Error('expected a ValidationError');
}

describe('receipt validation (before any byte is sent)', () => {
  it('accepts a well-formed receipt and fills defaults', () => {
    const valid = validateReceipt(receipt());
    expect(valid.totalKop).toBe(36_000);
    expect(valid.items[0]).toMatchObject({
      paymentMethod: 'fullPayment',
      paymentObject: 'commodity',
      measurementUnit: 'piece',
      department: 1,
    });
  });

  it('computes weighed amounts half-up: 0.250 kg at 123.45 is 30.86', () => {
    expect(positionAmountKop(12_345, 250)).toBe(3_086);
    expect(positionAmountKop(1_305, 85_000)).toBe(110_925);
  });

  it('rejects payments that do not cover the total', () => {
    expect(fieldOf(receipt({ payments: [{ type: 'cash', sumKop: 35_999 }] }))).toBe('payments');
  });

  it('rejects non-cash payments above the total', () => {
    expect(fieldOf(receipt({ payments: [{ type: 'electronically', sumKop: 36_001 }] }))).toBe('payments');
  });

  it('allows cash above the total (change)', () => {
    expect(validateReceipt(receipt({ payments: [{ type: 'cash', sumKop: 50_000 }] })).totalKop).toBe(36_000);
  });

  it('rejects a declared total that differs from the positions', () => {
    expect(fieldOf(receipt({ totalKop: 35_000 }))).toBe('totalKop');
  });

  it('rejects an amount that is not price × quantity', () => {
    expect(fieldOf(receipt({ items: [position({ amountKop: 35_999 })] }))).toBe('items[0].amountKop');
  });

  it.each([0, -1000, 1.5])('rejects quantity %s', (quantityMilli) => {
    expect(fieldOf(receipt({ items: [position({ quantityMilli })] }))).toBe('items[0].quantityMilli');
  });

  it('rejects a price over the register limit', () => {
    expect(fieldOf(receipt({ items: [position({ priceKop: MAX_BCD7_KOP + 1 })] }))).toBe('items[0].priceKop');
  });

  it('rejects a name too long for the register, and characters it cannot print', () => {
    expect(fieldOf(receipt({ items: [position({ name: 'x'.repeat(129) })] }))).toBe('items[0].name');
    expect(fieldOf(receipt({ items: [position({ name: 'Кофе ☕' })] }))).toBe('items[0].name');
  });

  it('rejects control characters, which CP866 encodes but the register must never print', () => {
    for (const name of ['Кофе\u001b[2J', 'Кофе\r\nЧай', 'Кофе\u0000', 'Кофе\u007f']) {
      expect(fieldOf(receipt({ items: [position({ name })] }))).toBe('items[0].name');
    }
    expect(fieldOf(receipt({ operator: { name: 'Иванов\u0007' } }))).toBe('operator.name');
    expect(fieldOf(receipt({ items: [position(), { type: 'text', text: 'Спасибо\n' }] }))).toBe(
      'items[1].text',
    );
  });

  it('rejects an unknown VAT type', () => {
    expect(fieldOf(receipt({ items: [position({ tax: { type: 'vat18' } })] }))).toBe('items[0].tax.type');
  });

  it('rejects an electronic receipt without a contact', () => {
    expect(fieldOf(receipt({ electronically: true }))).toBe('clientInfo.emailOrPhone');
  });

  it('rejects a receipt with only text lines', () => {
    expect(fieldOf(receipt({ items: [{ type: 'text', text: 'Спасибо!' }] }))).toBe('items');
  });
});
