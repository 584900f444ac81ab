import { describe, expect, it } from 'vitest';
import { type Bill, buildPosition } from '../../src/agent/domain/bill.js';
import { decodeVln } from '../../src/drivers/atol/protocol/tlv.js';
import type { JournalEntry } from '../../src/emulators/atol/index.js';
import { startWeb } from '../atol-web/support.js';
import { type AgentBox, receiptsOf, useAgentBox } from '../support/agentBox.js';
import { until } from '../support/agentProcess.js';
import { frontBill } from '../support/bills.js';
import { atolDevice } from '../support/shopConfig.js';

/**
 * Credit end to end (docs/money.md, "Advances, credit and change"): the real daemon hands goods over on
 * credit (tag 1214 = 6, paid by the credit payment type, 1216), part-paid with the rest on credit (1214 = 5),
 * then takes a repayment (1214 = 7) linked to the order's credit and refuses one that repays more than is
 * owed, naming the field, with nothing printed. Once on the binary-protocol register, once through driver 10.
 */

interface Backend {
  device: Record<string, unknown>;
  /** Every receipt the register made, as its journal records them. */
  receipts: JournalEntry[];
  /** The register's own fiscal document: its top-level tags. */
  tags(documentNumber: number): Array<{ tag: number; value: Buffer }>;
}

async function binaryBackend(box: AgentBox): Promise<Backend> {
  const atol = await box.startRegister();
  return {
    device: atolDevice(atol.port),
    receipts: receiptsOf(atol),
    tags: (n) => atol.device.document(n)?.tlvs ?? [],
  };
}

async function webBackend(box: AgentBox): Promise<Backend> {
  const h = await startWeb();
  box.own(h.web);
  return {
    device: {
      id: 'kkt',
      kind: 'atol-web',
      url: h.web.url,
      pollIntervalMs: 20,
      requestTimeoutMs: 2000,
      taskTimeoutMs: 5000,
      operator: { name: 'Кассир' },
      reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
    },
    receipts: receiptsOf(h.web.register),
    tags: (n) => h.web.device.document(n)?.tlvs ?? [],
  };
}

interface Shown {
  job: { state: string; failure?: { code: string; field?: string } };
  links: { from: Array<{ kind: string; target: string; amountMinor: number }> };
}

/** A television at 30 000 ₽, handed over on credit (6) or part-paid (5). */
const tv = (paymentMethod: 'credit' | 'partialPayment') =>
  buildPosition({
    name: 'Телевизор',
    priceMinor: 3_000_000,
    quantityMilli: 1000,
    vat: 'vat22',
    paymentMethod,
  });

/** A credit repayment (1214 = 7): its subject is a payment (1212 = 10). */
const repayment = (priceMinor: number) =>
  buildPosition({
    name: 'Оплата кредита по заказу К-9',
    priceMinor,
    quantityMilli: 1000,
    vat: 'vat22',
    paymentMethod: 'creditPayment',
    paymentObject: 'payment',
  });

const bill = (billId: string, order: string, positions: Bill['positions'], payments: unknown): Bill =>
  frontBill(billId, positions, { order, payments });

describe('credit through the daemon', () => {
  const box = useAgentBox('kkt-credit-');

  const show = (id: string) => box.agent.call('jobs.show', { id }) as Promise<Shown>;
  const submit = async (b: Bill) =>
    ((await box.agent.call('fiscalize', { bill: b })) as { job: { id: string } }).job;
  const settled = (id: string) =>
    until(async () => {
      const shown = await show(id);
      return ['FISCALIZED', 'REPORTED', 'FAILED', 'BLOCKED'].includes(shown.job.state) ? shown : undefined;
    }, `job ${id} settled`);
  const printed = async (id: string) => {
    const shown = await settled(id);
    expect(shown.job.state, JSON.stringify(shown.job.failure)).toMatch(/FISCALIZED|REPORTED/);
    return shown;
  };

  it.each([
    ['atol', binaryBackend],
    ['atol-web', webBackend],
  ])(
    'on %s: credit (6), part-paid (5), a repayment (7) linked, one over the debt refused',
    async (_kind, start) => {
      const backend = await start(box);
      await box.startAgent({ devices: [backend.device] });
      const creditTotal = (documentNumber: number) => {
        const tag = backend.tags(documentNumber).find((t) => t.tag === 1216);
        return tag ? decodeVln(tag.value) : undefined;
      };

      // Goods on credit: 1214 = 6, the whole total a credit payment (1216, ATOL payment type 4).
      const credit = await submit(
        bill('k1', 'K-9', [tv('credit')], [{ type: 'credit', amountMinor: 3_000_000 }]),
      );
      const shownCredit = await printed(credit.id);
      let entry = backend.receipts.at(-1)!;
      expect(entry).toMatchObject({ receiptType: 1, totalKop: 3_000_000 });
      expect(entry.items?.[0]).toMatchObject({ paymentMethod: 6 });
      expect(entry.payments).toEqual([{ paymentType: 4, sumKop: 3_000_000 }]);
      expect(creditTotal(entry.documentNumber)).toBe(3_000_000);
      expect(shownCredit.links.from).toContainEqual(
        expect.objectContaining({ kind: 'credit', target: 'pos/front/K-9', amountMinor: 3_000_000 }),
      );

      // Part now, the rest on credit: 1214 = 5, cash and 1216 on one receipt.
      const partly = await submit(
        bill(
          'k2',
          'K-10',
          [tv('partialPayment')],
          [
            { type: 'cash', amountMinor: 1_000_000 },
            { type: 'credit', amountMinor: 2_000_000 },
          ],
        ),
      );
      await printed(partly.id);
      entry = backend.receipts.at(-1)!;
      expect(entry.items?.[0]).toMatchObject({ paymentMethod: 5 });
      expect(entry.payments).toEqual(
        expect.arrayContaining([
          { paymentType: 1, sumKop: 1_000_000 },
          { paymentType: 4, sumKop: 2_000_000 },
        ]),
      );
      expect(creditTotal(entry.documentNumber)).toBe(2_000_000);

      // A repayment of 10 000 ₽ on K-9 (1214 = 7, subject 1212 = 10), paid by card and linked to the credit.
      const repay = await submit(bill('r1', 'K-9', [repayment(1_000_000)], 'card'));
      const shownRepay = await printed(repay.id);
      entry = backend.receipts.at(-1)!;
      expect(entry.items?.[0]).toMatchObject({ paymentMethod: 7, paymentObject: 10 });
      expect(entry.payments).toEqual([{ paymentType: 2, sumKop: 1_000_000 }]);
      expect(shownRepay.links.from).toContainEqual(
        expect.objectContaining({ kind: 'creditPayment', target: 'pos/front/K-9', amountMinor: 1_000_000 }),
      );

      // 20 000 ₽ is still owed on K-9: repaying 30 000 ₽ is refused, and so is a repayment on an order with
      // no credit; nothing prints for either.
      const count = backend.receipts.length;
      const over = await submit(bill('r2', 'K-9', [repayment(3_000_000)], 'cash'));
      expect((await settled(over.id)).job).toMatchObject({
        state: 'FAILED',
        failure: { code: 'CREDIT_PAYMENT_EXCEEDS_CREDIT', field: 'totalMinor' },
      });
      const stranger = await submit(bill('r3', 'K-404', [repayment(1_000_000)], 'cash'));
      expect((await settled(stranger.id)).job.failure).toMatchObject({
        code: 'CREDIT_PAYMENT_EXCEEDS_CREDIT',
      });
      expect(backend.receipts.length).toBe(count);

      // The rest of the debt, exactly, still prints.
      const last = await submit(bill('r4', 'K-9', [repayment(2_000_000)], 'cash'));
      await printed(last.id);
      expect(backend.receipts.length).toBe(count + 1);
    },
  );
});
