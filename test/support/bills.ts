import { type Bill, buildBill, buildPosition } from '../../src/agent/domain/bill.js';
import type { Job, JobOperation } from '../../src/agent/jobs/job.js';

/**
 * A valid bill for tests: `n` positions mixing VAT rates any seller may charge in 2026 (docs/money.md), goods
 * by the piece and by weight.
 */
export function sampleBill(
  billId: string,
  options: { positions?: number; source?: string; account?: string; currency?: string } = {},
): Bill {
  const vats = ['vat22', 'vat10', 'vat0', 'none', 'vat122'] as const;
  const positions = Array.from({ length: options.positions ?? 3 }, (_, i) =>
    buildPosition({
      name: `Товар ${i + 1}`,
      priceMinor: 10_000 + i * 1_235,
      quantityMilli: i % 3 === 2 ? 250 : 1000 + (i % 2) * 1000,
      unit: i % 3 === 2 ? 'kilogram' : 'piece',
      vat: vats[i % vats.length]!,
    }),
  );
  return buildBill({
    source: options.source ?? 'test',
    account: options.account ?? 'a1',
    billId,
    number: `N-${billId}`,
    currency: options.currency ?? 'RUB',
    positions,
    payments: 'card',
  });
}

/** The job a device's print gets for `bill`: journaled PRINTING on device `kkt`, first attempt. */
export function printingJob(bill: Bill, operation: JobOperation = 'sell'): Job {
  return {
    id: 'J1',
    key: `${bill.source}/${bill.account}/${bill.billId}`,
    seq: 1,
    bill,
    summary: { source: bill.source, account: bill.account, billId: bill.billId },
    operation,
    deviceId: 'kkt',
    state: 'PRINTING',
    receivedAt: '',
    updatedAt: '',
    trigger: { kind: 'test' },
    attempts: 1,
  };
}

/**
 * A bill of the shop's front till for the receipt-kind tests: `pos/front`, ОСН, roubles, number
 * `N<billId>`; `extra` gives the payments and adds or replaces fields (order …).
 */
export function frontBill(
  billId: string,
  positions: Bill['positions'],
  extra: { payments: unknown } & Record<string, unknown>,
): Bill {
  return buildBill({
    source: 'pos',
    account: 'front',
    billId,
    number: `N${billId}`,
    currency: 'RUB',
    taxationSystem: 'osn',
    positions,
    ...extra,
  } as Parameters<typeof buildBill>[0]);
}

/** `quantityMilli` thousandths of a packet of tea at 125 ₽, 22 % VAT. */
export function tea(quantityMilli: number): Bill['positions'][number] {
  return buildPosition({ name: 'Чай', priceMinor: 12_500, quantityMilli, vat: 'vat22' });
}
