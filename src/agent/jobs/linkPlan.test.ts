import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Bill, buildBill, buildPosition } from '../domain/bill.js';
import { AgentDatabase } from '../store/database.js';
import { Intake } from './intake.js';
import { billSummary, type Job } from './job.js';
import { JobStore } from './jobStore.js';
import { assertRelatable, planLinks, relatedReceipt } from './linkPlan.js';
import { JobLinks } from './links.js';

const tea = (quantityMilli = 2000, extra: Partial<Parameters<typeof buildPosition>[0]> = {}) =>
  buildPosition({ name: 'Чай', priceMinor: 12_500, quantityMilli, vat: 'vat22', ...extra });

const bill = (billId: string, extra: Partial<Bill> = {}, positions = [tea()]): Bill =>
  buildBill({
    source: 'pos',
    account: 'front',
    billId,
    number: billId,
    currency: 'RUB',
    positions,
    payments: 'card',
    ...extra,
  } as Parameters<typeof buildBill>[0]);

const job = (id: string, b: Bill, overrides: Partial<Job> = {}): Job => ({
  id,
  key: `pos/front/${b.billId}`,
  seq: 1,
  bill: b,
  summary: billSummary(b),
  operation: 'sell',
  deviceId: 'kkt',
  state: 'FISCALIZED',
  receivedAt: '',
  updatedAt: '',
  trigger: { kind: 'test' },
  attempts: 1,
  fiscal: {
    deviceId: 'kkt',
    deviceKind: 'atol',
    fiscalDocumentNumber: 7,
    fiscalSign: '123456',
    dateTime: '2026-12-01T10:00:00+03:00',
    dateTimeUtc: '2026-12-01T07:00:00.000Z',
    totalMinor: b.totalMinor,
  },
  ...overrides,
});

describe('planLinks', () => {
  const sale = job('s1', bill('s1', { order: 'O-1' }));

  it('links a return to its sale with the quantities per position, matched by name, price and VAT', () => {
    const links = planLinks(bill('r1', { relatesTo: { jobId: 's1' } }, [tea(500)]), 'sellReturn', sale);
    expect(links).toEqual([
      expect.objectContaining({
        kind: 'return',
        target: 's1',
        amountMinor: 6250,
        lines: [{ index: 0, position: 0, quantityMilli: 500, amountMinor: 6250 }],
        limit: { totalMinor: 25_000, positions: [{ name: 'Чай', quantityMilli: 2000 }] },
      }),
    ]);
    // A position the sale does not have: checked against the total only.
    const other = planLinks(
      bill('r2', { relatesTo: { jobId: 's1' } }, [
        buildPosition({ name: 'Сыр', priceMinor: 100, quantityMilli: 1000, vat: 'vat22' }),
      ]),
      'sellReturn',
      sale,
    );
    expect(other[0]).not.toHaveProperty('lines');
  });

  it('books advances, offsets, credit and repayments on the order; a return correction also links as a correction', () => {
    const advance = bill('a1', { order: 'O-1' }, [
      tea(1000, { vat: 'vat122', paymentMethod: 'advance', paymentObject: 'payment' }),
    ]);
    expect(planLinks(advance, 'sell', undefined)).toEqual([
      { kind: 'advance', target: 'pos/front/O-1', amountMinor: 12_500 },
    ]);
    const final = bill('f1', { order: 'O-1', payments: [{ type: 'prepaid', amountMinor: 25_000 }] });
    expect(planLinks(final, 'sell', undefined)).toEqual([
      { kind: 'offset', target: 'pos/front/O-1', amountMinor: 25_000 },
    ]);
    // Offsetting an advance receipted elsewhere books nothing: no ledger of ours holds it.
    expect(
      planLinks(
        bill('f2', { payments: [{ type: 'prepaid', amountMinor: 25_000 }], prepaidElsewhere: true }),
        'sell',
        undefined,
      ),
    ).toEqual([]);
    const credit = bill('c1', { order: 'O-2', payments: [{ type: 'credit', amountMinor: 25_000 }] }, [
      tea(2000, { paymentMethod: 'credit' }),
    ]);
    expect(planLinks(credit, 'sell', undefined)).toEqual([
      { kind: 'credit', target: 'pos/front/O-2', amountMinor: 25_000 },
    ]);
    const repay = bill('p1', { order: 'O-2' }, [
      tea(2000, { paymentMethod: 'creditPayment', paymentObject: 'payment' }),
    ]);
    expect(planLinks(repay, 'sell', undefined)).toEqual([
      { kind: 'creditPayment', target: 'pos/front/O-2', amountMinor: 25_000 },
    ]);
    const back = planLinks(bill('x1', { relatesTo: { jobId: 's1' } }), 'sellReturnCorrection', sale);
    expect(back.map((l) => l.kind)).toEqual(['return', 'correction']);
    const advanceBack = planLinks(advance, 'sellReturn', undefined);
    expect(advanceBack).toEqual([{ kind: 'advanceReturn', target: 'pos/front/O-1', amountMinor: 12_500 }]);
    expect(planLinks(bill('k1', { relatesTo: { jobId: 's1' } }), 'sellCorrection', sale)).toEqual([
      { kind: 'correction', target: 's1', amountMinor: 25_000 },
    ]);
  });
});

describe('assertRelatable and relatedReceipt', () => {
  const sale = job('s1', bill('s1'));
  it('returns only a printed receipt of the matching operation; corrects nothing that may still print', () => {
    expect(() => assertRelatable('sellReturn', undefined, 'nope')).toThrow(
      expect.objectContaining({ code: 'RELATED_JOB_UNKNOWN', field: 'relatesTo.jobId' }),
    );
    expect(() => assertRelatable('sellReturn', { ...sale, state: 'RECEIVED' }, 's1')).toThrow(
      expect.objectContaining({ code: 'RELATED_JOB_NOT_RETURNABLE' }),
    );
    expect(() => assertRelatable('buyReturn', sale, 's1')).toThrow(
      expect.objectContaining({ code: 'RELATED_JOB_NOT_RETURNABLE' }),
    );
    expect(() => assertRelatable('sellCorrection', { ...sale, state: 'PRINTING' }, 's1')).toThrow(
      expect.objectContaining({ code: 'RELATED_JOB_IN_FLIGHT' }),
    );
    expect(() => assertRelatable('sellReturn', sale, 's1')).not.toThrow();
    expect(relatedReceipt(sale)).toEqual({
      jobId: 's1',
      key: sale.key,
      fiscalDocumentNumber: 7,
      fiscalSign: '123456',
      dateTime: '2026-12-01T10:00:00+03:00',
    });
  });
});

describe('Intake with receipt kinds', () => {
  let dir: string;
  let db: AgentDatabase;
  let jobs: JobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kkt-intake-kinds-'));
    db = AgentDatabase.open(join(dir, 'agent.db'), { fsync: false });
    jobs = new JobStore(db);
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  const intake = (config = {}) =>
    new Intake(
      jobs,
      () => 'kkt',
      pino({ level: 'silent' }),
      () => undefined,
      { timeZone: 'Europe/Moscow', now: () => new Date('2026-12-10T09:00:00Z'), ...config },
    );

  it('turns a sale dated more than lateCorrectionAfterDays ago into a self-initiated correction of its day', async () => {
    const late = await intake({ lateCorrectionAfterDays: 3 }).submit({
      bill: bill('old', { date: '2026-12-01 18:30:00' }),
      trigger: { kind: 'test' },
    });
    expect(late.job).toMatchObject({
      operation: 'sellCorrection',
      bill: { correction: { type: 'self', baseDate: '2026-12-01' } },
    });
    const recent = await intake({ lateCorrectionAfterDays: 3 }).submit({
      bill: bill('new', { date: '2026-12-09' }),
      trigger: { kind: 'test' },
    });
    expect(recent.job.operation).toBe('sell');
    const off = await intake().submit({
      bill: bill('off', { date: '2026-01-01' }),
      trigger: { kind: 'test' },
    });
    expect(off.job.operation).toBe('sell');
  });

  it('records a return over the sale as FAILED naming the field, or throws it for a command; keeps the related receipt', async () => {
    await jobs.create(job('s1', bill('s1'), { seq: jobs.nextSeq() }));
    const ok = await intake().submit({
      bill: bill('r1', { relatesTo: { jobId: 's1' } }, [tea(1500)]),
      operation: 'sellReturn',
      trigger: { kind: 'test' },
    });
    expect(ok.job).toMatchObject({ state: 'RECEIVED', related: { jobId: 's1', fiscalSign: '123456' } });
    const over = await intake().submit({
      bill: bill('r2', { relatesTo: { jobId: 's1' } }, [tea(1000)]),
      operation: 'sellReturn',
      trigger: { kind: 'test' },
    });
    expect(over.job).toMatchObject({ state: 'FAILED', failure: { code: 'RETURN_EXCEEDS_SALE' } });
    await expect(
      intake().submit({
        bill: bill('r3', { relatesTo: { jobId: 's1' } }, [tea(1000)]),
        operation: 'sellReturn',
        trigger: { kind: 'cli' },
        onInvalid: 'throw',
      }),
    ).rejects.toMatchObject({ code: 'RETURN_EXCEEDS_SALE' });
    expect(jobs.findByBill({ source: 'pos', account: 'front', billId: 'r3' })).toBeUndefined();
    expect(new JobLinks(db).to('s1').map((l) => l.jobId)).toEqual([ok.job.id]);
  });

  it('resubmits a FAILED advance-offset once the advance is printed, checking the ledger again', async () => {
    const order = { order: 'O-9' } as Partial<Bill>;
    const final = bill('f1', { ...order, payments: [{ type: 'prepaid', amountMinor: 25_000 }] });
    const first = await intake().submit({ bill: final, trigger: { kind: 'test' } });
    expect(first.job).toMatchObject({ state: 'FAILED', failure: { code: 'OFFSET_EXCEEDS_PREPAID' } });
    const advance = bill('a1', order, [
      tea(2000, { vat: 'vat122', paymentMethod: 'advance', paymentObject: 'payment' }),
    ]);
    const { job: adv } = await intake().submit({ bill: advance, trigger: { kind: 'test' } });
    await jobs.transition(adv.id, 'PRINTING');
    await jobs.transition(adv.id, 'FISCALIZED');
    const again = await intake().submit({ bill: final, trigger: { kind: 'cli' } });
    expect(again.job).toMatchObject({ id: first.job.id, state: 'RECEIVED' });
  });
});
