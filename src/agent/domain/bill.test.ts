import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KktAgentError, ValidationError } from '../../lib/errors.js';
import {
  BILL_LIMITS,
  type Bill,
  BillTotalMismatchError,
  billSchema,
  buildBill,
  buildPosition,
  type Position,
  positionsTotalMinor,
  validateBill,
} from './bill.js';
import { MAX_AMOUNT_MINOR } from './money.js';
import { VAT_TYPE_NAMES, type VatType } from './vat.js';

/**
 * Bridge bill 346044 (the customer's log excerpt, docs/protocol/bridge-api-v2.md §1): one item, "Без НДС",
 * 3442.71.
 */
function bridgeBill(): Bill {
  return {
    source: 'bridge',
    account: '120',
    billId: '346044',
    number: '1307622',
    date: '2025-12-14 17:19:17',
    currency: 'RUB',
    customer: { name: 'Оксана Кокорина Викторовна ' },
    positions: [
      {
        name: 'Крем пептидный интенсивный зимний / Intense Cold Cream, Nutri-Peptide, GiGi (Джи Джи) - 50 мл',
        code: '22436',
        priceMinor: 344271,
        quantityMilli: 1000,
        amountMinor: 344271,
        unit: 'piece',
        vat: 'none',
        vatMinor: 0,
        paymentMethod: 'fullPayment',
        paymentObject: 'commodity',
      },
    ],
    payments: [{ type: 'card', amountMinor: 344271 }],
    totalMinor: 344271,
  };
}

/** Five positions with VAT, so that index 3 can be broken on purpose. */
function vatBill(): Bill {
  return buildBill({
    source: 'mqtt',
    account: 'shop-1',
    billId: 'b-17',
    number: '17',
    currency: 'RUB',
    taxationSystem: 'osn',
    cashier: { name: 'Иванова А.С.', inn: '500100732259' },
    positions: [
      buildPosition({
        name: 'Чай улун, развес',
        priceMinor: 1235,
        quantityMilli: 85000,
        unit: 'gram',
        vat: 'vat5',
      }),
      buildPosition({ name: 'Кофе', priceMinor: 21550, quantityMilli: 3000, vat: 'vat7' }),
      buildPosition({ name: 'Спички', priceMinor: 603, quantityMilli: 1000, vat: 'vat20' }),
      buildPosition({ name: 'Сыр', priceMinor: 123457, quantityMilli: 250, unit: 'kilogram', vat: 'vat22' }),
      buildPosition({ name: 'Пакет', priceMinor: 9999, quantityMilli: 1000, vat: 'vat22' }),
    ],
    payments: [
      { type: 'cash', amountMinor: 100000 },
      { type: 'card', amountMinor: 104975 + 64650 + 603 + 30864 + 9999 - 100000 },
    ],
  });
}

function validationError(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

function schemaIssues(value: unknown): Array<{ field: string; message: string }> {
  const result = billSchema.safeParse(value);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({
    field: issue.path
      .map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))
      .join('')
      .replace(/^\./, ''),
    message: issue.message,
  }));
}

function positionsOf(count: number, priceMinor: number): Position[] {
  const position = buildPosition({ name: 'Товар', priceMinor, quantityMilli: 1000, vat: 'vat20' });
  return Array.from({ length: count }, () => ({ ...position }));
}

describe('buildPosition', () => {
  it('computes amount and VAT (synthetic, bridge-api-v2.md §5: tea by the gram at 5 %)', () => {
    const tea = buildPosition({
      name: 'Чай улун, развес',
      code: '901',
      priceMinor: 1235,
      quantityMilli: 85000,
      unit: 'gram',
      vat: 'vat5',
    });
    expect(tea).toEqual({
      name: 'Чай улун, развес',
      code: '901',
      priceMinor: 1235,
      quantityMilli: 85000,
      amountMinor: 104975,
      unit: 'gram',
      vat: 'vat5',
      vatMinor: 4999,
      paymentMethod: 'fullPayment',
      paymentObject: 'commodity',
    });
  });

  it('prices per kilogram times 0.250 kg, rounding half-up', () => {
    const cheese = buildPosition({
      name: 'Сыр',
      priceMinor: 123457,
      quantityMilli: 250,
      unit: 'kilogram',
      vat: 'vat20',
    });
    expect(cheese.amountMinor).toBe(30864); // 308.6425 → 308.64
    expect(cheese.vatMinor).toBe(5144); // 308.64 / 6 = 51.44
  });

  it('applies 6.03 @ 20 % = 1.01 (half-up, not banker’s)', () => {
    expect(
      buildPosition({ name: 'Спички', priceMinor: 603, quantityMilli: 1000, vat: 'vat20' }).vatMinor,
    ).toBe(101);
  });

  it('rejects bad prices and quantities, naming the field', () => {
    expect(
      validationError(() =>
        buildPosition({ name: 'x', priceMinor: 12.5, quantityMilli: 1000, vat: 'none' }, 'positions[2]'),
      ).field,
    ).toBe('positions[2].priceMinor');
    expect(() => buildPosition({ name: 'x', priceMinor: 100, quantityMilli: 0, vat: 'none' })).toThrow(
      'position.quantityMilli: quantity must be greater than 0',
    );
    expect(() => buildPosition({ name: 'x', priceMinor: -1, quantityMilli: 1000, vat: 'none' })).toThrow(
      /must not be negative/,
    );
    expect(() =>
      buildPosition({ name: 'x', priceMinor: MAX_AMOUNT_MINOR, quantityMilli: 2000, vat: 'none' }),
    ).toThrow('position.amountMinor: exceeds the limit of 1000000000000 minor units');
  });
});

describe('validateBill', () => {
  it('accepts the bridge bill 346044 and returns an equal copy', () => {
    const bill = bridgeBill();
    const validated = validateBill(bill);
    expect(validated).toEqual(bill);
    expect(validated).not.toBe(bill);
  });

  it('accepts a bill with VAT, weights and split payments', () => {
    const bill = vatBill();
    expect(bill.totalMinor).toBe(104975 + 64650 + 603 + 30864 + 9999);
    expect(bill.positions.map((p) => p.vatMinor)).toEqual([4999, 4229, 101, 5566, 1803]);
    expect(validateBill(bill)).toEqual(bill);
  });

  it('accepts a UZS bill in whole so’m', () => {
    const bill = buildBill({
      source: 'oxsystem',
      account: 'tashkent-1',
      billId: '5521',
      number: '5521',
      currency: 'UZS',
      positions: [buildPosition({ name: 'Non', priceMinor: 3000, quantityMilli: 2000, vat: 'none' })],
      payments: 'cash',
    });
    expect(bill.totalMinor).toBe(6000);
    expect(bill.payments).toEqual([{ type: 'cash', amountMinor: 6000 }]);
  });

  it('names the position whose amount is not price × quantity', () => {
    const bill = vatBill();
    const broken = bill.positions[3];
    if (!broken) throw new Error('fixture');
    broken.amountMinor += 1;
    const error = validationError(() => validateBill(bill));
    expect(error.field).toBe('positions[3].amountMinor');
    expect(error.message).toBe(
      'positions[3].amountMinor: expected 30864 (1234.57 × 0.25, rounded half-up), got 30865',
    );
  });

  it('names the position whose VAT is wrong (banker’s rounding caught)', () => {
    const bill = vatBill();
    const matches = bill.positions[2];
    if (!matches) throw new Error('fixture');
    matches.vatMinor = 100;
    expect(() => validateBill(bill)).toThrow('positions[2].vatMinor: expected 101 (vat20 of 6.03), got 100');
  });

  it('throws BillTotalMismatchError when the positions do not add up to the total', () => {
    const bill = bridgeBill();
    bill.totalMinor = 344270;
    let caught: unknown;
    try {
      validateBill(bill);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BillTotalMismatchError);
    expect(caught).toBeInstanceOf(KktAgentError);
    const error = caught as BillTotalMismatchError;
    expect(error.code).toBe('BILL_TOTAL_MISMATCH');
    expect(error.field).toBe('totalMinor');
    expect(error.expectedMinor).toBe(344270);
    expect(error.actualMinor).toBe(344271);
    expect(error.message).toMatch(
      /^totalMinor: the bill total is 3442.7 RUB but the positions add up to 3442.71 RUB/,
    );
  });

  it('throws BillTotalMismatchError on payments when they do not cover the total', () => {
    const bill = bridgeBill();
    bill.payments = [
      { type: 'cash', amountMinor: 100000 },
      { type: 'card', amountMinor: 200000 },
    ];
    expect(() => validateBill(bill)).toThrow(BillTotalMismatchError);
    expect(() => validateBill(bill)).toThrow(
      /^payments: the bill total is 3442.71 RUB but the payments add up to 3000 RUB/,
    );
  });

  it('reports shape errors before arithmetic, as ValidationError naming the field', () => {
    const bill = bridgeBill() as unknown as Record<string, unknown>;
    delete bill['number'];
    bill['totalMinor'] = 1;
    expect(validationError(() => validateBill(bill)).field).toBe('number');
    expect(validationError(() => validateBill(null)).field).toBe('');
  });
});

describe('text for the register', () => {
  it('accepts typography (the device prints it as best it can) but refuses control characters, naming the field', () => {
    const typographic = bridgeBill();
    typographic.positions[0]!.name = 'Крем «Зимний» — “Intense” 50\u00a0мл…';
    expect(validateBill(typographic).positions[0]!.name).toBe('Крем «Зимний» — “Intense” 50\u00a0мл…');

    const cases: Array<[(bill: Bill) => void, string]> = [
      [(bill) => (bill.positions[0]!.name = 'Крем\u001b[0m'), 'positions[0].name'],
      [(bill) => (bill.positions[0]!.code = '22\n436'), 'positions[0].code'],
      [(bill) => (bill.customer = { name: 'ООО\u0000Ромашка', inn: '7712345678' }), 'customer.name'],
      [(bill) => (bill.customer = { emailOrPhone: 'a@b.ru\r' }), 'customer.emailOrPhone'],
      [(bill) => (bill.cashier = { name: 'Иванова\u0085' }), 'cashier.name'],
      [(bill) => (bill.positions[0]!.name = 'Крем\u007f'), 'positions[0].name'],
    ];
    for (const [breakIt, field] of cases) {
      const bill = bridgeBill();
      breakIt(bill);
      const error = validationError(() => validateBill(bill));
      expect(error.code).toBe('TEXT_CONTROL_CHARACTER');
      expect(error.field).toBe(field);
      expect(schemaIssues(bill).map((issue) => issue.field)).toEqual([field]);
    }
  });
});

describe('billSchema', () => {
  it('accepts valid bills', () => {
    expect(billSchema.parse(bridgeBill())).toEqual(bridgeBill());
    expect(billSchema.safeParse(vatBill()).success).toBe(true);
  });

  it.each<[string, (bill: Record<string, unknown>, position: Record<string, unknown>) => void, string]>([
    ['a missing number', (bill) => delete bill['number'], 'number'],
    ['a missing billId', (bill) => delete bill['billId'], 'billId'],
    ['missing positions', (bill) => delete bill['positions'], 'positions'],
    ['a missing price', (_, position) => delete position['priceMinor'], 'positions[0].priceMinor'],
    ['a numeric billId', (bill) => (bill['billId'] = 346044), 'billId'],
    ['a price as text', (_, position) => (position['priceMinor'] = '3442.71'), 'positions[0].priceMinor'],
    [
      'a price in major units',
      (_, position) => (position['priceMinor'] = 3442.71),
      'positions[0].priceMinor',
    ],
    ['a NaN amount', (_, position) => (position['amountMinor'] = Number.NaN), 'positions[0].amountMinor'],
    ['an infinite total', (bill) => (bill['totalMinor'] = Number.POSITIVE_INFINITY), 'totalMinor'],
    ['an unsafe integer', (_, position) => (position['priceMinor'] = 2 ** 53), 'positions[0].priceMinor'],
    ['a negative price', (_, position) => (position['priceMinor'] = -1), 'positions[0].priceMinor'],
    [
      'a negative payment',
      (bill) => (bill['payments'] = [{ type: 'card', amountMinor: -5 }]),
      'payments[0].amountMinor',
    ],
    ['a zero quantity', (_, position) => (position['quantityMilli'] = 0), 'positions[0].quantityMilli'],
    [
      'a fractional quantity',
      (_, position) => (position['quantityMilli'] = 0.5),
      'positions[0].quantityMilli',
    ],
    ['a total above 10^12', (bill) => (bill['totalMinor'] = MAX_AMOUNT_MINOR + 1), 'totalMinor'],
    ['an unknown currency', (bill) => (bill['currency'] = 'USD'), 'currency'],
    ['an unknown VAT type', (_, position) => (position['vat'] = 'vat18'), 'positions[0].vat'],
    ['an unknown unit', (_, position) => (position['unit'] = 'шт'), 'positions[0].unit'],
    [
      'an unknown payment type',
      (bill) => (bill['payments'] = [{ type: 'bitcoin', amountMinor: 344271 }]),
      'payments[0].type',
    ],
    ['no payments', (bill) => (bill['payments'] = []), 'payments'],
    ['no positions', (bill) => (bill['positions'] = []), 'positions'],
    ['a blank name', (_, position) => (position['name'] = '   '), 'positions[0].name'],
    ['a 129-character name', (_, position) => (position['name'] = 'я'.repeat(129)), 'positions[0].name'],
    ['a 65-character number', (bill) => (bill['number'] = '1'.repeat(65)), 'number'],
    ['a malformed customer INN', (bill) => (bill['customer'] = { inn: '77-01' }), 'customer.inn'],
    ['a cashier without a name', (bill) => (bill['cashier'] = { inn: '500100732259' }), 'cashier.name'],
    ['an unknown taxation system', (bill) => (bill['taxationSystem'] = 'envd'), 'taxationSystem'],
    ['a bill that is an array', () => undefined, ''],
  ])('rejects %s, naming the field', (_, mutate, field) => {
    const bill = bridgeBill() as unknown as Record<string, unknown>;
    const position = (bill['positions'] as Array<Record<string, unknown>>)[0] ?? {};
    mutate(bill, position);
    const value = field === '' ? [bill] : bill;
    expect(schemaIssues(value).map((issue) => issue.field)).toContain(field);
    expect(() => validateBill(value)).toThrow(ValidationError);
    expect(validationError(() => validateBill(value)).field).toBe(field);
  });

  it('accepts a 128-character name and a 64-character number (FFD limits)', () => {
    const bill = bridgeBill();
    const position = bill.positions[0];
    if (!position) throw new Error('fixture');
    position.name = 'я'.repeat(BILL_LIMITS.positionNameLength);
    bill.number = '1'.repeat(BILL_LIMITS.numberLength);
    expect(billSchema.safeParse(bill).success).toBe(true);
  });

  it('rejects unknown fields, which are typos in a money payload', () => {
    const bill = { ...bridgeBill(), totalKop: 344271 };
    expect(() => validateBill(bill)).toThrow('totalKop: unknown field');
  });

  it('takes 1000 positions and rejects 1001', () => {
    const thousand = buildBill({ ...bridgeBill(), positions: positionsOf(1000, 100), payments: 'card' });
    expect(thousand.totalMinor).toBe(100000);
    expect(billSchema.safeParse(thousand).success).toBe(true);

    const tooMany = { ...thousand, positions: positionsOf(1001, 100), totalMinor: 100100 };
    tooMany.payments = [{ type: 'card', amountMinor: 100100 }];
    expect(schemaIssues(tooMany)).toEqual([
      { field: 'positions', message: 'Too big: expected array to have <=1000 items' },
    ]);
  });

  it('handles totals at the 10^12 limit and one kopeck above', () => {
    const atLimit = buildBill({
      ...bridgeBill(),
      positions: positionsOf(1000, 1_000_000_000),
      payments: 'cash',
    });
    expect(atLimit.totalMinor).toBe(MAX_AMOUNT_MINOR);

    const positions = positionsOf(1000, 1_000_000_000);
    positions[999] = buildPosition({
      name: 'Ещё копейка',
      priceMinor: 1_000_000_001,
      quantityMilli: 1000,
      vat: 'vat20',
    });
    const error = validationError(() => buildBill({ ...bridgeBill(), positions, payments: 'cash' }));
    expect(error.details['issues']).toContainEqual({
      field: 'totalMinor',
      reason: 'Too big: expected number to be <=1000000000000',
    });
  });

  it('reports arithmetic problems on the fields they concern', () => {
    const bill = vatBill();
    const third = bill.positions[3];
    if (!third) throw new Error('fixture');
    third.amountMinor += 1;
    // 30865 @ 22 % still gives VAT 5566, and the payments still match the (unchanged) total.
    expect(schemaIssues(bill).map((issue) => issue.field)).toEqual([
      'positions[3].amountMinor',
      'totalMinor',
    ]);
    third.vatMinor = 0;
    bill.payments = [{ type: 'cash', amountMinor: 1 }];
    expect(schemaIssues(bill).map((issue) => issue.field)).toEqual([
      'positions[3].amountMinor',
      'positions[3].vatMinor',
      'totalMinor',
      'payments',
    ]);
  });

  it('reports a mismatch, not a crash, when price × quantity passes 2^53', () => {
    const bill = bridgeBill();
    bill.positions = [
      {
        ...bill.positions[0],
        name: 'x',
        priceMinor: MAX_AMOUNT_MINOR,
        quantityMilli: 9_999_999_999,
        amountMinor: MAX_AMOUNT_MINOR,
        unit: 'piece',
        vat: 'none',
        vatMinor: 0,
        paymentMethod: 'fullPayment',
        paymentObject: 'commodity',
      },
    ];
    bill.totalMinor = MAX_AMOUNT_MINOR;
    bill.payments = [{ type: 'card', amountMinor: MAX_AMOUNT_MINOR }];
    expect(schemaIssues(bill).map((issue) => issue.field)).toEqual(['positions[0].amountMinor']);
  });
});

describe('bill arithmetic (properties)', () => {
  const positionInput = fc.record({
    priceMinor: fc.integer({ min: 0, max: 10_000_000 }),
    quantityMilli: fc.integer({ min: 1, max: 100_000 }),
    vat: fc.constantFrom<VatType>(...VAT_TYPE_NAMES),
  });

  it('built bills always validate; the total is Σ amounts; VAT never exceeds the amount', () => {
    fc.assert(
      fc.property(fc.array(positionInput, { minLength: 1, maxLength: 30 }), (inputs) => {
        const positions = inputs.map((input, index) => buildPosition({ name: `p${index}`, ...input }));
        const bill = buildBill({ ...bridgeBill(), positions, payments: 'card' });
        expect(bill.totalMinor).toBe(positions.reduce((sum, p) => sum + p.amountMinor, 0));
        expect(positionsTotalMinor(positions)).toBe(bill.totalMinor);
        for (const position of bill.positions) {
          expect(position.vatMinor).toBeLessThanOrEqual(position.amountMinor);
        }
        expect(validateBill(bill)).toEqual(bill);
      }),
    );
  });
});
