import { z } from 'zod';
import { formatMinor } from '../../../lib/decimal.js';
import { ValidationError } from '../../../lib/errors.js';
import { type Bill, type Payment, QUANTITY_FRACTION_DIGITS, taxPercent } from '../../domain/index.js';
import type { FiscalData } from '../../jobs/job.js';
import { readBridgeSourceData } from './mapping.js';

/**
 * The "ReceiptCreated" v2 event, exactly as the shop's current POS app posts it to `/api/v2/receipts`
 * (docs/protocol/bridge-api-v2.md §6–8). Key order follows the logged bodies (which look sorted by a jsonb
 * column: by key length, then alphabetically); JSON readers do not care, but a byte-for-byte diff against the
 * log is easy.
 *
 * Money is a JSON number printed from integer kopecks through their decimal text (344271 → 3442.71,
 * 1593100 → 15931); no arithmetic ever happens on the printed value.
 */

export const RECEIPT_CREATED_TYPE = 'ReceiptCreated';
export const RECEIPT_CREATED_VERSION = 2;

export interface ReceiptCreatedItem {
  id: string;
  tax: number;
  name: string;
  price: number;
  discount: 0;
  itemType: string;
  quantity: number;
  sumPrice: number;
  costPrice: 0;
  taxPercent: number;
  measureName: string;
}

/** `BILL.customer` without `id`: these seven keys, values verbatim (trailing spaces kept). */
export const RECEIPT_CUSTOMER_KEYS = [
  'inn',
  'kpp',
  'reg',
  'name',
  'okpo',
  'fullname',
  'legalentity',
] as const;
export type ReceiptCreatedCustomer = Partial<Record<(typeof RECEIPT_CUSTOMER_KEYS)[number], unknown>>;

export type PaymentSource = 'PAY_CARD' | 'PAY_CASH';

export interface ReceiptCreatedData {
  id: string;
  type: 'SELL';
  items: ReceiptCreatedItem[];
  extras: {
    date: string;
    billId: string;
    number: string;
    customer: ReceiptCreatedCustomer;
    prepayment: number;
    contentModified: false;
    settlementMethod: 'FullSettlement';
  };
  shiftId: string;
  storeId: string;
  dateTime: string;
  deviceId: string;
  totalTax: number;
  infoCheck: false;
  employeeId: string;
  totalAmount: number;
  paymentSource: PaymentSource;
  totalDiscount: 0;
}

/** The event as drafted into the outbox: everything but `timestamp`, which is set at each send. */
export interface ReceiptCreatedDraft {
  id: string;
  data: ReceiptCreatedData;
  type: typeof RECEIPT_CREATED_TYPE;
  userId: string;
  version: typeof RECEIPT_CREATED_VERSION;
}

export interface ReceiptCreatedEvent extends ReceiptCreatedDraft {
  /** Epoch ms of this send. */
  timestamp: number;
}

/**
 * The Evotor-style ids the POS app puts into every event of an account (docs/protocol/bridge-api-v2.md §7).
 */
export interface BridgeIdentity {
  userId: string;
  storeId: string;
  deviceId: string;
  employeeId: string;
}

export interface BuildReceiptCreatedInput {
  bill: Bill;
  fiscal: Pick<FiscalData, 'dateTimeUtc' | 'shiftNumber'>;
  identity: BridgeIdentity;
  /** Random lowercase UUID v4s, generated once per event (see the connector's draft). */
  eventId: string;
  receiptId: string;
}

const money = (minor: number): number => Number(formatMinor(minor, 2));
const quantity = (milli: number): number => Number(formatMinor(milli, QUANTITY_FRACTION_DIGITS));

/** Bill (from mapBridgeBill) + the register's fiscal data → the event without its timestamp. */
export function buildReceiptCreated(input: BuildReceiptCreatedInput): ReceiptCreatedDraft {
  const { bill, fiscal, identity } = input;
  const source = readBridgeSourceData(bill.sourceData);
  if (source.products.length !== bill.positions.length) {
    throw new ValidationError(
      'sourceData.products',
      `${source.products.length} products recorded for ${bill.positions.length} positions`,
    );
  }

  let totalTaxMinor = 0;
  const items = bill.positions.map((position, index): ReceiptCreatedItem => {
    const product = source.products[index]!;
    totalTaxMinor += position.vatMinor;
    return {
      id: product.id,
      tax: money(position.vatMinor),
      name: product.prodname ?? position.name,
      price: money(position.priceMinor),
      discount: 0,
      itemType: product.type,
      quantity: quantity(position.quantityMilli),
      sumPrice: money(position.amountMinor),
      costPrice: 0,
      taxPercent: taxPercent(position.vat),
      measureName: product.unitname,
    };
  });

  const customer: ReceiptCreatedCustomer = {};
  for (const key of RECEIPT_CUSTOMER_KEYS) {
    if (Object.hasOwn(source.customer, key)) customer[key] = source.customer[key];
  }

  return {
    id: input.eventId,
    data: {
      id: input.receiptId,
      type: 'SELL',
      items,
      extras: {
        date: source.date,
        billId: source.billId,
        number: source.number,
        customer,
        prepayment: money(source.prepaymentMinor),
        contentModified: false,
        settlementMethod: 'FullSettlement',
      },
      // An ATOL register always reports its shift; "0" only if a device ever does not.
      shiftId: String(fiscal.shiftNumber ?? 0),
      storeId: identity.storeId,
      dateTime: utcSeconds(fiscal.dateTimeUtc),
      deviceId: identity.deviceId,
      totalTax: money(totalTaxMinor),
      infoCheck: false,
      employeeId: identity.employeeId,
      totalAmount: money(bill.totalMinor),
      // The advance offset (prepaymentEnable/`prepayment`) is not how the buyer paid today.
      paymentSource: paymentSourceOf(bill.payments.filter((p) => p.type !== 'prepaid')),
      totalDiscount: 0,
    },
    type: RECEIPT_CREATED_TYPE,
    userId: identity.userId,
    version: RECEIPT_CREATED_VERSION,
  };
}

/** The event as sent: the drafted body with this send's time appended (last, as in the logs). */
export function withTimestamp(draft: ReceiptCreatedDraft, timestampMs: number): ReceiptCreatedEvent {
  return { ...draft, timestamp: timestampMs };
}

/**
 * `PAY_CASH` when cash pays the larger part, else `PAY_CARD`. The logs only show single card payments;
 * the bridge connector itself only ever records one payment, so a split reaches here only from another
 * path, and then the event names the method that carried most of the money (a tie counts as card).
 * Every payment type other than cash (card, prepaid, credit, other) counts as non-cash.
 */
export function paymentSourceOf(payments: readonly Payment[]): PaymentSource {
  let cashMinor = 0;
  let otherMinor = 0;
  for (const payment of payments) {
    if (payment.type === 'cash') cashMinor += payment.amountMinor;
    else otherMinor += payment.amountMinor;
  }
  return cashMinor > otherMinor ? 'PAY_CASH' : 'PAY_CARD';
}

/** `2025-12-15T12:37:19.000Z`: whole seconds, UTC, as the POS app writes it. */
function utcSeconds(dateTimeUtc: string): string {
  const at = Date.parse(dateTimeUtc);
  if (Number.isNaN(at)) throw new ValidationError('fiscal.dateTimeUtc', `"${dateTimeUtc}" is not a date`);
  return new Date(Math.floor(at / 1000) * 1000).toISOString();
}

/** The outbox payload: the drafted event and what the logs need to name it (no customer data). */
export const receiptCreatedPayloadSchema = z.object({
  account: z.string(),
  billId: z.string(),
  event: z.looseObject({
    id: z.uuid(),
    data: z.looseObject({ id: z.uuid() }),
    type: z.literal(RECEIPT_CREATED_TYPE),
    userId: z.string(),
    version: z.literal(RECEIPT_CREATED_VERSION),
  }),
});

export interface ReceiptCreatedPayload {
  account: string;
  billId: string;
  event: ReceiptCreatedDraft;
}
