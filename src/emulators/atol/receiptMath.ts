import { PaymentType } from '../../drivers/atol/commands/receipt.js';
import type { OpenReceiptState, StoredPayment } from './state.js';

/** Receipt arithmetic in integer kopecks. */

export const receiptTotal = (receipt: OpenReceiptState): number =>
  receipt.positions.reduce((sum, position) => sum + position.totalKop, 0);

export const paidTotal = (payments: readonly StoredPayment[]): number =>
  payments.reduce((sum, payment) => sum + payment.sumKop, 0);

export const nonCashTotal = (payments: readonly StoredPayment[]): number =>
  payments.reduce((sum, payment) => sum + (payment.paymentType === PaymentType.Cash ? 0 : payment.sumKop), 0);

/** Price × quantity (thousandths) rounded half up to whole kopecks, exactly (bigint: 14 × 10 digits). */
export function positionAmount(priceKop: number, quantityMilli: number): number {
  return Number((BigInt(priceKop) * BigInt(quantityMilli) + 500n) / 1000n);
}

/** Tendered sums per payment type. */
export function tenderedByType(payments: readonly StoredPayment[]): Map<number, number> {
  const byType = new Map<number, number>();
  for (const p of payments) byType.set(p.paymentType, (byType.get(p.paymentType) ?? 0) + p.sumKop);
  return byType;
}
