import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonLossless, parseWithSchema } from '../../../lib/json.js';
import { validateBill } from '../../domain/bill.js';
import type { PaymentType } from '../../domain/payment.js';
import { type MapOxSellInput, mapOxSell, readOxSourceData, splitLine } from './mapping.js';
import { type OxSell, sellSchema } from './wire.js';

/** A Price as OX prints it, foreign amounts as floats (which the mapping must never touch). */
const price = (uzs: number) =>
  `{"first":"UZS","ratio":{"UZS/USD":8.333333333333333e-5,"USD/UZS":12000},"order":{"UZS":${uzs},"USD":${(uzs / 12000).toFixed(2)}}}`;

interface LineSpec {
  name?: string;
  count: number;
  total: number;
  variation?: string;
  deleted?: boolean;
}

function sellJson(options: {
  lines: LineSpec[];
  total?: number;
  payments?: Array<{ method: number; price: number; type?: string }>;
  draft?: boolean;
}): string {
  const total = options.total ?? options.lines.filter((l) => !l.deleted).reduce((s, l) => s + l.total, 0);
  const records = options.lines.map(
    (l, i) =>
      `{"id":${1639144 + i},"variationName":${JSON.stringify(l.name ?? `Item ${i}`)},"count":${l.count},` +
      `"price":${price(l.count ? Math.round(l.total / l.count) : 0)},"total":${price(l.total)},` +
      `"finalPrice":${price(l.count ? Math.round(l.total / l.count) : 0)},"variation":${l.variation ?? 42975 + i},"deleted":${l.deleted ?? false}}`,
  );
  const payments = (options.payments ?? []).map(
    (p, i) =>
      `{"id":${4767 + i},"status":"finished","paymentMethod":${p.method},"price":${price(p.price)},"type":"${p.type ?? 'sell'}"}`,
  );
  const draft = options.draft ?? false;
  return (
    `{"id":6534,"status":"cart","note":null,"draft":${draft},"isPostpone":false,` +
    `"updatedTime":"2019-06-19 18:03:29","finishedTime":${draft ? 'null' : '"2019-06-19 18:03:28"'},` +
    `"sellRecords":[${records.join(',')}],"refundRecords":[],"total":${price(total)},"payments":[${payments.join(',')}]}`
  );
}

const sell = (json: string): OxSell => parseWithSchema(sellSchema, parseJsonLossless(json));

const typeOf = (methodId: number): PaymentType => (methodId === 3 ? 'cash' : 'card');

function map(json: string, overrides: Partial<MapOxSellInput> = {}) {
  return mapOxSell({
    account: 'main',
    sell: sell(json),
    kind: 'finished',
    cashdesk: 12,
    paymentTypeOf: typeOf,
    ...overrides,
  });
}

describe('mapOxSell', () => {
  it("maps the doc's finished sell: 220 000 so'm less 100 000, paid 120 000 in cash", () => {
    const bill = map(
      sellJson({
        lines: [{ name: 'Спортивный костюм', count: 1, total: 120_000 }],
        payments: [{ method: 3, price: 120_000 }],
      }),
    );
    expect(bill).toMatchObject({
      source: 'oxsystem',
      account: 'main',
      billId: '6534',
      number: '6534',
      date: '2019-06-19 18:03:28',
      currency: 'UZS',
      totalMinor: 120_000,
      payments: [{ type: 'cash', amountMinor: 120_000 }],
    });
    expect(bill.positions).toEqual([
      expect.objectContaining({
        name: 'Спортивный костюм',
        priceMinor: 120_000,
        quantityMilli: 1000,
        amountMinor: 120_000,
        vat: 'none',
        vatMinor: 0,
      }),
    ]);
    expect(readOxSourceData(bill)).toMatchObject({
      oxSellId: '6534',
      cashdesk: 12,
      kind: 'finished',
      totalMinor: 120_000,
    });
  });

  it("splits a line whose total does not divide by its count, to the so'm", () => {
    expect(splitLine(10_000, 3)).toEqual([
      { priceMinor: 3333, count: 2 },
      { priceMinor: 3334, count: 1 },
    ]);
    expect(splitLine(9000, 3)).toEqual([{ priceMinor: 3000, count: 3 }]);
    const bill = map(
      sellJson({ lines: [{ count: 3, total: 10_000 }], payments: [{ method: 114, price: 10_000 }] }),
    );
    expect(bill.positions.map((p) => [p.priceMinor, p.quantityMilli, p.amountMinor])).toEqual([
      [3333, 2000, 6666],
      [3334, 1000, 3334],
    ]);
    expect(readOxSourceData(bill)?.positions.map((p) => p.sellRecord)).toEqual(['1639144', '1639144']);
  });

  it('skips deleted lines and zero lines', () => {
    const bill = map(
      sellJson({
        lines: [
          { count: 1, total: 5000 },
          { count: 2, total: 7000, deleted: true },
          { count: 0, total: 0 },
        ],
        payments: [{ method: 3, price: 5000 }],
      }),
    );
    expect(bill.positions).toHaveLength(1);
  });

  it('keeps the Uzbek VAT of embedded variations in sourceData, positions stay "none"', () => {
    const json = sellJson({
      lines: [
        { count: 1, total: 112_000, variation: '{"id":1035,"taxable":true,"vatPercent":12,"unit":"pcs"}' },
        { count: 2, total: 2000, variation: '{"id":1036,"taxable":false,"vatPercent":null,"unit":"kg"}' },
        { count: 1, total: 105_000, variation: '{"id":1037,"taxable":true,"vatPercent":5}' },
      ],
      payments: [{ method: 3, price: 219_000 }],
    });
    const bill = map(json);
    expect(bill.positions.map((p) => [p.vat, p.unit, p.code])).toEqual([
      ['none', 'piece', '1035'],
      ['none', 'kilogram', '1036'],
      ['none', 'piece', '1037'],
    ]);
    expect(readOxSourceData(bill)?.positions).toEqual([
      { sellRecord: '1639144', variation: '1035', taxable: true, vatPercent: '12', vatMinor: 12_000 },
      { sellRecord: '1639145', variation: '1036', taxable: false },
      { sellRecord: '1639146', variation: '1037', taxable: true, vatPercent: '5', vatMinor: 5000 },
    ]);
  });

  it('reads VAT from looked-up variations when lines only name them', () => {
    const bill = map(
      sellJson({
        lines: [{ count: 1, total: 56_000, variation: '777' }],
        payments: [{ method: 3, price: 56_000 }],
      }),
      {
        variations: new Map([['777', { id: '777', taxable: true, vatPercent: '12' }]]),
      },
    );
    expect(readOxSourceData(bill)?.positions[0]).toMatchObject({
      variation: '777',
      vatPercent: '12',
      vatMinor: 6000,
    });
  });

  it("adds the rest of an open sell as the agent's payment, after what was already paid", () => {
    const bill = map(
      sellJson({
        draft: true,
        lines: [{ count: 1, total: 120_000 }],
        payments: [{ method: 3, price: 20_000 }],
      }),
      {
        kind: 'open',
        addedPayment: { type: 'card', methodId: 114 },
      },
    );
    expect(bill.payments).toEqual([
      { type: 'cash', amountMinor: 20_000 },
      { type: 'card', amountMinor: 100_000 },
    ]);
    expect(readOxSourceData(bill)?.payment).toEqual({
      paymentMethod: 114,
      priceMinor: 100_000,
      paidBeforeMinor: 20_000,
    });
  });

  it('names the field of every problem', () => {
    const noTotal = sellJson({ lines: [{ count: 1, total: 1000 }] }).replace(
      /"total":\{[^}]*\}[^}]*\}\}/,
      '"total":null',
    );
    expect(() => map(noTotal)).toThrow(expect.objectContaining({ field: 'sellRecords[0].total' }));
    // count 2: the line's unit price is 500, so the first 1000 is the line's total.
    const fraction = sellJson({
      lines: [{ count: 2, total: 1000 }],
      payments: [{ method: 3, price: 1000 }],
    }).replace('"order":{"UZS":1000,', '"order":{"UZS":1000.5,');
    expect(() => map(fraction)).toThrow(expect.objectContaining({ field: 'sellRecords[0].total.order.UZS' }));
    const fractionalCount = sellJson({ lines: [{ count: 1, total: 1000 }] }).replace(
      '"count":1,',
      '"count":1.5,',
    );
    expect(() => map(fractionalCount)).toThrow(expect.objectContaining({ field: 'sellRecords[0].count' }));
    expect(() =>
      map(
        sellJson({ lines: [{ count: 2, total: 1000 }], total: 900, payments: [{ method: 3, price: 900 }] }),
      ),
    ).toThrow(expect.objectContaining({ code: 'BILL_TOTAL_MISMATCH', field: 'total.order.UZS' }));
    expect(() =>
      map(sellJson({ lines: [{ count: 1, total: 1000 }], payments: [{ method: 3, price: 900 }] })),
    ).toThrow(expect.objectContaining({ code: 'BILL_TOTAL_MISMATCH', field: 'payments' }));
    expect(() =>
      map(
        sellJson({
          lines: [{ count: 1, total: 1000 }],
          payments: [{ method: 3, price: 1000, type: 'refund' }],
        }),
      ),
    ).toThrow(expect.objectContaining({ field: 'payments[0].type' }));
    expect(() =>
      map(
        sellJson({
          lines: [{ count: 1, total: 1000, variation: '{"id":1,"taxable":true,"vatPercent":null}' }],
        }),
      ),
    ).toThrow(expect.objectContaining({ field: 'sellRecords[0].variation.vatPercent' }));
    expect(() => map(sellJson({ lines: [{ count: 1, total: 1000, deleted: true }] }))).toThrow(
      expect.objectContaining({ field: 'sellRecords' }),
    );
  });

  it("keeps UZS amounts whole so'm end to end (property)", () => {
    const line = fc.record({
      count: fc.integer({ min: 1, max: 10_000 }),
      total: fc.integer({ min: 0, max: 1_000_000_000 }),
    });
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        (lines, paymentCount, open) => {
          const total = lines.reduce((s, l) => s + l.total, 0);
          // Split the total over the payments (cash and card alternate), in whole so'm.
          const payments = Array.from({ length: open ? 0 : paymentCount }, (_, i) => ({
            method: i % 2 === 0 ? 3 : 114,
            price:
              i === paymentCount - 1
                ? total - Math.floor(total / paymentCount) * (paymentCount - 1)
                : Math.floor(total / paymentCount),
          }));
          const json = sellJson({ lines, payments, draft: open });
          const bill = map(json, open ? { kind: 'open', addedPayment: { type: 'card', methodId: 114 } } : {});

          // The very integers OX sent: no ×100, no float on the way.
          expect(bill.totalMinor).toBe(total);
          expect(validateBill(bill)).toEqual(bill);
          expect(bill.payments.reduce((s, p) => s + p.amountMinor, 0)).toBe(total);
          const byRecord = new Map<string, number>();
          const sources = readOxSourceData(bill)!.positions;
          bill.positions.forEach((p, i) => {
            expect(Number.isSafeInteger(p.priceMinor)).toBe(true);
            expect(p.quantityMilli % 1000).toBe(0);
            expect(p.amountMinor).toBe((p.priceMinor * p.quantityMilli) / 1000);
            byRecord.set(sources[i]!.sellRecord, (byRecord.get(sources[i]!.sellRecord) ?? 0) + p.amountMinor);
          });
          lines.forEach((l, i) => {
            expect(byRecord.get(String(1639144 + i))).toBe(l.total);
          });
          const count = bill.positions.reduce((s, p) => s + p.quantityMilli / 1000, 0);
          expect(count).toBe(lines.reduce((s, l) => s + l.count, 0));
          if (open && total > 0) expect(readOxSourceData(bill)?.payment?.priceMinor).toBe(total);
        },
      ),
      { numRuns: 100 },
    );
  });
});
