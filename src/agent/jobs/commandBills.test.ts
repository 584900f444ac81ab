import { describe, expect, it } from 'vitest';
import { buildBill, buildPosition } from '../domain/bill.js';
import { buildCorrectionBill, buildReturnBill, COMMAND_SOURCE, correctionBasis } from './commandBills.js';
import { billSummary, type Job } from './job.js';

const sale = buildBill({
  source: 'pos',
  account: 'front',
  billId: 'b1',
  number: 'N1',
  currency: 'RUB',
  positions: [
    buildPosition({ name: 'Чай', priceMinor: 12_500, quantityMilli: 2000, vat: 'vat22' }),
    buildPosition({ name: 'Сыр', priceMinor: 89_900, quantityMilli: 1254, vat: 'vat10', unit: 'kilogram' }),
  ],
  payments: 'card',
  order: 'O-1',
  sourceData: { kind: 'master' },
});

const job = (overrides: Partial<Job> = {}): Job => ({
  id: 'j1',
  key: 'pos/front/b1',
  seq: 1,
  bill: sale,
  summary: billSummary(sale),
  operation: 'sell',
  deviceId: 'kkt',
  state: 'FISCALIZED',
  receivedAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
  trigger: { kind: 'test' },
  attempts: 1,
  ...overrides,
});

describe('buildReturnBill', () => {
  it('returns every position at its price, back by the original payment type, linked position by position', () => {
    const { bill, kind } = buildReturnBill(job(), { returnsSoFar: 0 });
    expect(kind).toBe('sellReturn');
    expect(bill).toMatchObject({
      source: COMMAND_SOURCE,
      billId: 'j1:return:1',
      totalMinor: sale.totalMinor,
      payments: [{ type: 'card', amountMinor: sale.totalMinor }],
      relatesTo: { jobId: 'j1', positions: [0, 1] },
      order: 'O-1',
    });
    expect(bill.sourceData).toBeUndefined();
  });

  it('returns part of a weighed position at its price, in integer kopecks (half-up)', () => {
    const { bill } = buildReturnBill(job(), {
      positions: [{ index: 1, quantityMilli: 333 }],
      payment: 'cash',
      emailOrPhone: '+79161234567',
      returnsSoFar: 2,
    });
    // 899.00 × 0.333 = 299.367 → 299.37
    expect(bill.positions).toEqual([
      expect.objectContaining({ name: 'Сыр', quantityMilli: 333, amountMinor: 29_937 }),
    ]);
    expect(bill).toMatchObject({
      billId: 'j1:return:3',
      totalMinor: 29_937,
      payments: [{ type: 'cash', amountMinor: 29_937 }],
      customer: { emailOrPhone: '+79161234567' },
      relatesTo: { positions: [1] },
    });
  });

  it('refuses naming the field: a position the job lacks, a split payment without --payment, a purchase return of a correction', () => {
    expect(() => buildReturnBill(job(), { positions: [{ index: 5 }], returnsSoFar: 0 })).toThrow(
      expect.objectContaining({ field: 'positions[0].index' }),
    );
    const split = {
      ...sale,
      payments: [
        { type: 'cash' as const, amountMinor: 100 },
        { type: 'card' as const, amountMinor: sale.totalMinor - 100 },
      ],
    };
    expect(() => buildReturnBill(job({ bill: split }), { returnsSoFar: 0 })).toThrow(
      expect.objectContaining({ field: 'payment' }),
    );
    expect(() => buildReturnBill(job({ operation: 'sellReturn' }), { returnsSoFar: 0 })).toThrow(
      expect.objectContaining({ field: 'jobId' }),
    );
    const { bill: withoutBill, ...rest } = job();
    expect(withoutBill).toBeDefined();
    expect(() => buildReturnBill(rest as Job, { returnsSoFar: 0 })).toThrow(
      expect.objectContaining({ field: 'jobId' }),
    );
  });
});

describe('buildCorrectionBill', () => {
  it('corrects a settlement never receipted (FAILED) with a correction of the same operation', () => {
    const { bill, kind } = buildCorrectionBill(job({ state: 'FAILED' }), { baseDate: '2026-12-01' }, 0);
    expect(kind).toBe('sellCorrection');
    expect(bill).toMatchObject({
      source: COMMAND_SOURCE,
      billId: 'j1:correction:1',
      correction: { type: 'self', baseDate: '2026-12-01' },
      relatesTo: { jobId: 'j1' },
    });
    expect(bill.sourceData).toBeUndefined();
  });

  it('takes a printed receipt with wrong data back by the correction of its return; purchases alike', () => {
    expect(buildCorrectionBill(job(), { baseDate: '2026-12-01' }, 0).kind).toBe('sellReturnCorrection');
    expect(buildCorrectionBill(job({ operation: 'buy' }), { baseDate: '2026-12-01' }, 0).kind).toBe(
      'buyReturnCorrection',
    );
    expect(buildCorrectionBill(job({ operation: 'sellReturn' }), { baseDate: '2026-12-01' }, 0).kind).toBe(
      'sellCorrection',
    );
  });

  it('refuses without a date (tag 1178), a kind that is not a correction, and a correction of a correction', () => {
    expect(() => correctionBasis({})).toThrow(expect.objectContaining({ field: 'correction.baseDate' }));
    expect(() => buildCorrectionBill(job(), { baseDate: '2026-12-01', kind: 'sell' }, 0)).toThrow(
      expect.objectContaining({ field: 'kind' }),
    );
    expect(() =>
      buildCorrectionBill(job({ operation: 'sellCorrection' }), { baseDate: '2026-12-01' }, 0),
    ).toThrow(expect.objectContaining({ field: 'jobId' }));
  });

  it("carries a tax office's order (1173 = 1, 1179)", () => {
    const { bill } = buildCorrectionBill(
      job({ state: 'FAILED' }),
      { baseDate: '2026-11-02', type: 'instruction', baseNumber: '77-ПР' },
      1,
    );
    expect(bill).toMatchObject({
      billId: 'j1:correction:2',
      correction: { type: 'instruction', baseNumber: '77-ПР' },
    });
  });
});
