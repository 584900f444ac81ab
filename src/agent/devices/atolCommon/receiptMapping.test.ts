import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCp866Encodable } from '../../../drivers/atol/protocol/cp866.js';
import { validateReceipt } from '../../../drivers/atol/receipt.js';
import { KktAgentError, ValidationError } from '../../../lib/errors.js';
import { type Bill, buildBill, buildPosition } from '../../domain/bill.js';
import type { VatType } from '../../domain/vat.js';
import { RUSSIAN_VAT_TABLE } from '../../domain/vatRules.js';
import type { Job } from '../../jobs/job.js';
import { type AtolReceiptContext, billToAtolReceipt } from './receiptMapping.js';

const job = (operation: Job['operation'] = 'sell') => ({ id: 'J-1', operation }) as Job;
const context = (overrides: Partial<AtolReceiptContext> = {}): AtolReceiptContext => ({
  defaults: { operator: { name: 'Кассир Смена 1', vatin: '500100732259' } },
  settlementDate: '2026-03-22',
  ...overrides,
});

function bill(names: string[], vat: VatType = 'vat22', extra: Partial<Bill> = {}): Bill {
  return {
    ...buildBill({
      source: 'bridge',
      account: '120',
      billId: '9001',
      number: '9001',
      currency: 'RUB',
      positions: names.map((name) => buildPosition({ name, priceMinor: 10_000, quantityMilli: 1000, vat })),
      payments: 'card',
    }),
    ...extra,
  };
}

function refused(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a refusal');
}

describe('billToAtolReceipt: text', () => {
  it('prints « » — “ ” as " and -, and leaves the bill (what the reports carry) untouched', () => {
    const original = ['Чай «Эрл Грей» — 100 г', '“Конфеты” – ассорти…', 'Сыр\u00a0«Российский»'];
    const input = bill(original);
    const { receipt, normalisedFields } = billToAtolReceipt(job(), input, context());
    expect(receipt.items.map((item) => (item as { name: string }).name)).toEqual([
      'Чай "Эрл Грей" - 100 г',
      '"Конфеты" - ассорти...',
      'Сыр "Российский"',
    ]);
    expect(normalisedFields).toEqual(['positions[0].name', 'positions[1].name', 'positions[2].name']);
    expect(input.positions.map((p) => p.name)).toEqual(original);
    expect(() => validateReceipt(receipt)).not.toThrow();
  });

  it('refuses a control character in any text, naming the bill field, before anything is sent', () => {
    // Intake refuses these already (validateBill); a bill journaled before that rule still meets this one.
    const named = (name: string) => {
      const input = bill(['Чай']);
      input.positions[0]!.name = name;
      return input;
    };
    const cases: Array<[Bill, string]> = [
      [named('Чай\u001b[2J'), 'positions[0].name'],
      [{ ...bill(['Чай']), cashier: { name: 'Иванова\n' } }, 'cashier.name'],
      [{ ...bill(['Чай']), customer: { name: 'ООО\u0007', inn: '7712345678' } }, 'customer.name'],
      [{ ...bill(['Чай']), customer: { emailOrPhone: '+7900\r' } }, 'customer.emailOrPhone'],
    ];
    for (const [input, field] of cases) {
      const error = refused(() => billToAtolReceipt(job(), input, context()));
      expect(error.code).toBe('TEXT_CONTROL_CHARACTER');
      expect(error.field).toBe(field);
    }
  });

  it("normalises only the texts it sends: a private buyer's name stays off the receipt and cannot refuse it", () => {
    const privateBuyer = { ...bill(['Чай']), customer: { name: '\u200b\u200b', emailOrPhone: 'a@b.ru' } };
    expect(billToAtolReceipt(job(), privateBuyer, context()).receipt.clientInfo).toEqual({
      emailOrPhone: 'a@b.ru',
    });
    const legal = { ...bill(['Чай']), customer: { name: 'ООО «Ромашка»', inn: '7712345678' } };
    expect(billToAtolReceipt(job(), legal, context()).receipt.clientInfo).toEqual({
      emailOrPhone: undefined,
      vatin: '7712345678',
      name: 'ООО "Ромашка"',
    });
  });

  it('property: any name either becomes a receipt the register schema accepts, or is refused naming the field', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 160 }), (name) => {
        const input = bill(['x']);
        input.positions[0]!.name = name;
        let receipt: ReturnType<typeof billToAtolReceipt>['receipt'];
        try {
          receipt = billToAtolReceipt(job(), input, context()).receipt;
        } catch (error) {
          expect(error).toBeInstanceOf(KktAgentError);
          expect((error as ValidationError).field).toBe('positions[0].name');
          return;
        }
        const printed = (receipt.items[0] as { name: string }).name;
        expect(isCp866Encodable(printed)).toBe(true);
        expect(() => validateReceipt(receipt)).not.toThrow();
      }),
      { numRuns: 200 },
    );
  });
});

describe('billToAtolReceipt: cashier', () => {
  it('always names a cashier: the configured operator when the bill has none', () => {
    const { receipt } = billToAtolReceipt(job(), bill(['Чай']), context());
    expect(receipt.operator).toEqual({ name: 'Кассир Смена 1', vatin: '500100732259' });
  });

  it("prefers the bill's own cashier (MoySklad) and its INN only when it is a person's (12 digits)", () => {
    const withInn = bill(['Чай'], 'vat22', { cashier: { name: 'Иванов Иван', inn: '222490425273' } });
    expect(billToAtolReceipt(job(), withInn, context()).receipt.operator).toEqual({
      name: 'Иванов Иван',
      vatin: '222490425273',
    });
    const oddInn = bill(['Чай'], 'vat22', { cashier: { name: 'Петрова «старший»', inn: '7710045520' } });
    expect(billToAtolReceipt(job(), oddInn, context()).receipt.operator).toEqual({
      name: 'Петрова "старший"',
    });
  });
});

describe('billToAtolReceipt: VAT by settlement date', () => {
  it('refuses 20 % on a 2026 settlement naming the position and the rule; takes it in 2025', () => {
    const error = refused(() => billToAtolReceipt(job(), bill(['Спички'], 'vat20'), context()));
    expect(error.code).toBe('VAT_RATE_NOT_ALLOWED');
    expect(error.field).toBe('positions[0].vat');
    expect(error.message).toContain('"Спички"');
    expect(error.message).toContain('425-FZ');
    expect(() =>
      billToAtolReceipt(job(), bill(['Спички'], 'vat20'), context({ settlementDate: '2025-12-31' })),
    ).not.toThrow();
  });

  it('takes 5 % where the taxation system is УСН, from the bill or the device, and refuses it otherwise', () => {
    const tea = bill(['Чай улун, развес'], 'vat5');
    expect(() =>
      billToAtolReceipt(
        job(),
        tea,
        context({ defaults: { operator: { name: 'Кассир' }, taxationType: 'usnIncome' } }),
      ),
    ).not.toThrow();
    expect(() =>
      billToAtolReceipt(job(), { ...tea, taxationSystem: 'usnIncomeOutcome' }, context()),
    ).not.toThrow();
    expect(refused(() => billToAtolReceipt(job(), tea, context())).code).toBe('VAT_RATE_NOT_ALLOWED');
    expect(
      refused(() => billToAtolReceipt(job(), { ...tea, taxationSystem: 'osn' }, context())).message,
    ).toContain('ОСН (osn)');
  });

  it('honours a configured transition and lets a return keep its sale’s rate', () => {
    const matches = bill(['Спички'], 'vat120');
    const vatPolicy = { table: RUSSIAN_VAT_TABLE, allowRetiredRatesUntil: '2026-03-31' };
    expect(() => billToAtolReceipt(job(), matches, context({ vatPolicy }))).not.toThrow();
    expect(refused(() => billToAtolReceipt(job(), matches, context())).code).toBe('VAT_RATE_NOT_ALLOWED');
    expect(() => billToAtolReceipt(job('sellReturn'), matches, context())).not.toThrow();
  });
});
