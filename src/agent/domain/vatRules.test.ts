import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { type Bill, buildBill, buildPosition } from './bill.js';
import type { TaxationSystem } from './payment.js';
import type { VatType } from './vat.js';
import {
  allowedVatTypes,
  assertVatRatesAllowed,
  DEFAULT_VAT_POLICY,
  RUSSIAN_VAT_TABLE,
  type VatCheck,
  type VatPolicy,
  VatRateNotAllowedError,
  vatPeriodOn,
  vatRateTableSchema,
} from './vatRules.js';

function billAt(...vats: VatType[]): Bill {
  return buildBill({
    source: 'test',
    account: 'a',
    billId: 'b1',
    number: '1',
    currency: 'RUB',
    positions: vats.map((vat, i) =>
      buildPosition({ name: `Товар ${i + 1}`, priceMinor: 12_200, quantityMilli: 1000, vat }),
    ),
    payments: 'card',
  });
}

function check(
  settlementDate: string,
  taxationSystem?: TaxationSystem,
  extra: Partial<VatCheck> & { policy?: VatPolicy } = {},
): VatCheck {
  return { policy: DEFAULT_VAT_POLICY, settlementDate, taxationSystem, operation: 'sell', ...extra };
}

function refusal(bill: Bill, c: VatCheck): VatRateNotAllowedError {
  try {
    assertVatRatesAllowed(bill, c);
  } catch (error) {
    expect(error).toBeInstanceOf(VatRateNotAllowedError);
    expect(error).toBeInstanceOf(ValidationError);
    return error as VatRateNotAllowedError;
  }
  throw new Error('expected the bill to be refused');
}

describe('the Russian VAT table', () => {
  it('is a valid table: ascending periods, known VAT types and taxation systems', () => {
    expect(vatRateTableSchema.safeParse(RUSSIAN_VAT_TABLE).success).toBe(true);
  });

  it('has 20 % until 2025-12-31 and 22 % from 2026-01-01 (425-FZ)', () => {
    expect(allowedVatTypes(vatPeriodOn(RUSSIAN_VAT_TABLE, '2025-12-31')!, 'osn')).toEqual(
      expect.arrayContaining(['vat20', 'vat120']),
    );
    const y2026 = allowedVatTypes(vatPeriodOn(RUSSIAN_VAT_TABLE, '2026-01-01')!, 'osn');
    expect(y2026).toEqual(['none', 'vat0', 'vat10', 'vat22', 'vat110', 'vat122']);
    expect(vatPeriodOn(RUSSIAN_VAT_TABLE, '2026-01-01')!.basis).toMatch(/425-FZ of 28\.11\.2025/);
  });

  it('opens 5 % and 7 % (and 5/105, 7/107) to УСН only, since 2025', () => {
    const usn = allowedVatTypes(vatPeriodOn(RUSSIAN_VAT_TABLE, '2026-03-22')!, 'usnIncome');
    expect(usn).toEqual(expect.arrayContaining(['vat5', 'vat7', 'vat105', 'vat107', 'vat22']));
    expect(allowedVatTypes(vatPeriodOn(RUSSIAN_VAT_TABLE, '2026-03-22')!, 'osn')).not.toContain('vat5');
    expect(allowedVatTypes(vatPeriodOn(RUSSIAN_VAT_TABLE, '2024-12-31')!, 'usnIncome')).not.toContain('vat5');
  });
});

describe('assertVatRatesAllowed', () => {
  it('lets the tea shop print 5 % under УСН on 2026-03-22 (the issue’s bill)', () => {
    expect(() =>
      assertVatRatesAllowed(billAt('vat5', 'vat5', 'vat5'), check('2026-03-22', 'usnIncome')),
    ).not.toThrow();
    expect(() =>
      assertVatRatesAllowed(billAt('vat7', 'vat107'), check('2026-03-22', 'usnIncomeOutcome')),
    ).not.toThrow();
  });

  it('refuses 20 % and 20/120 from 2026-01-01, naming the position and the rule', () => {
    for (const vat of ['vat20', 'vat120'] as const) {
      const error = refusal(billAt('vat22', vat), check('2026-01-01', 'osn'));
      expect(error.code).toBe('VAT_RATE_NOT_ALLOWED');
      expect(error.field).toBe('positions[1].vat');
      expect(error.message).toContain('"Товар 2"');
      expect(error.message).toContain('applies to settlements before 2026-01-01');
      expect(error.message).toContain('425-FZ');
      expect(error.message).toContain('vat.allowRetiredRatesUntil');
      expect(error.details['rule']).toMatch(/425-FZ/);
    }
  });

  it('still takes 20 % on 2025-12-31 and refuses 22 % then (it applies from 2026-01-01)', () => {
    expect(() => assertVatRatesAllowed(billAt('vat20', 'vat120'), check('2025-12-31', 'osn'))).not.toThrow();
    const error = refusal(billAt('vat22'), check('2025-12-31', 'osn'));
    expect(error.field).toBe('positions[0].vat');
    expect(error.message).toContain('applies from 2026-01-01');
  });

  it('takes 20 % in 2026 only within a configured transition, up to and including its last day', () => {
    const policy = { ...DEFAULT_VAT_POLICY, allowRetiredRatesUntil: '2026-03-31' };
    expect(() =>
      assertVatRatesAllowed(billAt('vat20'), check('2026-03-31', 'osn', { policy })),
    ).not.toThrow();
    const error = refusal(billAt('vat20'), check('2026-04-01', 'osn', { policy }));
    expect(error.message).toContain('transition (vat.allowRetiredRatesUntil) ended on 2026-03-31');
  });

  it('lets a return keep the rate of the sale it undoes (FNS letter of 15.12.2025)', () => {
    expect(() =>
      assertVatRatesAllowed(billAt('vat20'), check('2026-02-10', 'osn', { operation: 'sellReturn' })),
    ).not.toThrow();
  });

  it('refuses 5 %, 7 %, 5/105 and 7/107 outside УСН, and when no taxation system is known', () => {
    for (const vat of ['vat5', 'vat7', 'vat105', 'vat107'] as const) {
      for (const system of ['osn', 'esn', 'patent', undefined] as const) {
        const error = refusal(billAt('none', vat), check('2026-03-22', system));
        expect(error.field).toBe('positions[1].vat');
        expect(error.message).toContain(
          'УСН доходы (usnIncome) or УСН доходы минус расходы (usnIncomeOutcome)',
        );
        expect(error.message).toContain(
          system ? `taxation system is` : "neither the bill nor the device's taxationType",
        );
      }
    }
  });

  it('refuses a settlement before the table begins', () => {
    const error = refusal(billAt('vat20'), check('2018-12-31', 'osn'));
    expect(error.message).toContain('the VAT rate table starts on 2019-01-01');
  });

  it('follows a table given as data (next year’s change is a new row)', () => {
    const table = [
      ...RUSSIAN_VAT_TABLE,
      {
        from: '2027-01-01',
        basis: 'hypothetical law: general rate 25 %',
        rates: [{ vat: ['none' as const, 'vat10' as const] }],
      },
    ];
    const policy = { table };
    expect(() =>
      assertVatRatesAllowed(billAt('vat22'), check('2026-12-31', 'osn', { policy })),
    ).not.toThrow();
    expect(refusal(billAt('vat22'), check('2027-01-01', 'osn', { policy })).message).toContain(
      'hypothetical law',
    );
  });
});

describe('vatRateTableSchema', () => {
  it('refuses periods out of order, unknown VAT types and bad dates, naming the field', () => {
    const bad = [
      { from: '2026-01-01', basis: 'b', rates: [{ vat: ['vat22'] }] },
      { from: '2025-01-01', basis: 'b', rates: [{ vat: ['vat20'] }] },
    ];
    expect(vatRateTableSchema.safeParse(bad).error?.issues[0]?.path).toEqual([1, 'from']);
    expect(
      vatRateTableSchema.safeParse([{ from: '2026-01-01', basis: 'b', rates: [{ vat: ['vat18'] }] }]).success,
    ).toBe(false);
    expect(
      vatRateTableSchema.safeParse([{ from: '2026-13-01', basis: 'b', rates: [{ vat: ['vat22'] }] }]).success,
    ).toBe(false);
  });
});
