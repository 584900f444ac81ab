import { z } from 'zod';
import { parseDecimalToMinor, roundHalfUpDiv } from '../../../lib/decimal.js';
import { ValidationError } from '../../../lib/errors.js';
import { isLosslessNumber, parseWithSchema } from '../../../lib/json.js';
import {
  BILL_LIMITS,
  type Bill,
  BillTotalMismatchError,
  buildBill,
  buildPosition,
  type MeasurementUnit,
  type Payment,
  type PaymentType,
  type Position,
  parseUnitName,
  QUANTITY_SCALE,
} from '../../domain/index.js';
import type { OxSellKind } from './config.js';
import { OX_CURRENCY, type OxSell, type OxVariation, sellRecordSchema } from './wire.js';

/**
 * An OX sell → the agent's Bill (docs/protocol/oxsystem.md §3).
 *
 * - Amounts are whole so'm (UZS has 0 minor digits): `order.UZS` 3000 is priceMinor 3000, never 300000.
 * - A line's `total` (after discounts) is its amount; `count` (an integer) its quantity, in thousandths.
 *   When the total does not divide by the count (a discount spread over pieces), the line becomes two
 *   positions, `count − r` pieces at ⌊total/count⌋ and `r` at one so'm more, so the receipt adds up exactly.
 * - Σ lines must equal the sell's `total`; a sell-level discount not spread over the lines is an error.
 * - VAT: the domain's VAT types are Russian register tax types; Uzbekistan's 12 % has none, and a 5 %
 *   Uzbek rate is not "НДС 5 %" either. Positions carry `vat: "none"`, and each line's `taxable`,
 *   `vatPercent` and the VAT included in its amount go to `sourceData.positions`, for a device that can
 *   print or fiscalize Uzbek VAT.
 * - Payments: a finished sell's own payments (type "sell"); an open or postponed sell's existing payments
 *   plus the rest, paid by the agent after printing with the configured method.
 */

export const OX_SOURCE = 'oxsystem';

const jsonObject = z.record(z.string(), z.json());

/** Per position: where it came from and its Uzbek VAT, when known. */
export const oxPositionSourceSchema = z.object({
  sellRecord: z.string(),
  variation: z.string().optional(),
  taxable: z.boolean().optional(),
  /** Decimal text as OX sent it ("12", "12.5"). */
  vatPercent: z.string().optional(),
  /** VAT included in the position's amount: round-half-up(amount × rate / (100 + rate)), whole so'm. */
  vatMinor: z.number().int().min(0).optional(),
});
export type OxPositionSource = z.infer<typeof oxPositionSourceSchema>;

/** What the sink needs back (Bill.sourceData). */
export const oxSourceDataSchema = z.object({
  oxSellId: z.string(),
  cashdesk: z.number().int(),
  kind: z.enum(['open', 'postponed', 'finished']),
  /** The sell's `total` when it was fiscalized: a sell that changed since is not paid or committed. */
  totalMinor: z.number().int().min(0),
  updatedTime: z.string(),
  /** Open and postponed sells: the payment the agent adds after printing. */
  payment: z
    .object({
      paymentMethod: z.number().int().positive(),
      priceMinor: z.number().int().positive(),
      /** Σ the sell's payments before ours: how a retry tells whether its payment already went in. */
      paidBeforeMinor: z.number().int().min(0),
    })
    .optional(),
  positions: z.array(oxPositionSourceSchema),
});
export type OxSourceData = z.infer<typeof oxSourceDataSchema>;

export function readOxSourceData(bill: Bill): OxSourceData | undefined {
  const parsed = oxSourceDataSchema.safeParse(bill.sourceData);
  return parsed.success ? parsed.data : undefined;
}

export interface OxAddedPayment {
  type: 'cash' | 'card';
  methodId: number;
}

export interface MapOxSellInput {
  account: string;
  sell: OxSell;
  kind: OxSellKind;
  cashdesk: number;
  /** The receipt payment type of an OX payment-method id. */
  paymentTypeOf: (methodId: number) => PaymentType;
  /** Open and postponed sells: the method the agent pays the rest with. */
  addedPayment?: OxAddedPayment;
  /** Variation cards read for lines that only name the variation's id. */
  variations?: ReadonlyMap<string, OxVariation>;
}

/** The non-deleted lines of a sell, unparsed, with their index in `sellRecords`. */
export function liveRecords(sell: Pick<OxSell, 'sellRecords'>): Array<{ index: number; raw: unknown }> {
  return sell.sellRecords
    .map((raw, index) => ({ index, raw }))
    .filter(
      ({ raw }) =>
        !(raw !== null && typeof raw === 'object' && (raw as { deleted?: unknown }).deleted === true),
    );
}

/** Variation ids named by the sell's live lines without an embedded variation object. */
export function variationIdsToLookUp(sell: Pick<OxSell, 'sellRecords'>): string[] {
  const ids = new Set<string>();
  for (const { raw } of liveRecords(sell)) {
    const variation = (raw as { variation?: unknown } | null)?.variation;
    if (typeof variation === 'number' || typeof variation === 'string' || isLosslessNumber(variation)) {
      ids.add(String(variation));
    }
  }
  return [...ids];
}

export function mapOxSell(input: MapOxSellInput): Bill {
  const { sell } = input;
  const positions: Position[] = [];
  const sources: OxPositionSource[] = [];
  let linesTotal = 0;

  for (const { index, raw } of liveRecords(sell)) {
    const field = `sellRecords[${index}]`;
    const record = parseWithSchema(sellRecordSchema, raw, field);
    const totalMinor = record.total.order[OX_CURRENCY];
    if (record.count === 0) {
      if (totalMinor === 0) continue;
      throw new ValidationError(`${field}.count`, `is 0 but the line's total is ${totalMinor} UZS`);
    }
    linesTotal += totalMinor;
    const variation =
      typeof record.variation === 'object' && record.variation !== null
        ? record.variation
        : input.variations?.get(String(record.variation));
    const variationId = typeof record.variation === 'string' ? record.variation : variation?.id;
    const vatPercent = vatPercentOf(variation, `${field}.variation.vatPercent`);
    const unit = unitOf(variation?.unit);
    const name = truncate(record.variationName.trim(), BILL_LIMITS.positionNameLength);

    for (const part of splitLine(totalMinor, record.count)) {
      const position = buildPosition(
        {
          name,
          ...(variationId !== undefined
            ? { code: variationId.slice(0, BILL_LIMITS.positionCodeLength) }
            : {}),
          priceMinor: part.priceMinor,
          quantityMilli: part.count * QUANTITY_SCALE,
          vat: 'none',
          unit,
        },
        field,
      );
      positions.push(position);
      const source: OxPositionSource = { sellRecord: record.id };
      if (variationId !== undefined) source.variation = variationId;
      if (typeof variation?.taxable === 'boolean') source.taxable = variation.taxable;
      if (vatPercent !== undefined) {
        source.vatPercent = vatPercent.text;
        source.vatMinor = includedVat(position.amountMinor, vatPercent.hundredths);
      }
      sources.push(source);
    }
  }

  if (positions.length === 0) throw new ValidationError('sellRecords', 'the sell has no lines to fiscalize');
  const sellTotal = sell.total.order[OX_CURRENCY];
  if (linesTotal !== sellTotal) {
    throw new BillTotalMismatchError('total.order.UZS', 'the sell lines', sellTotal, linesTotal, OX_CURRENCY);
  }

  const { payments, added } = paymentsOf(input, sellTotal);
  const sourceData: OxSourceData = {
    oxSellId: sell.id,
    cashdesk: input.cashdesk,
    kind: input.kind,
    totalMinor: sellTotal,
    updatedTime: sell.updatedTime,
    positions: sources,
  };
  if (added) sourceData.payment = added;

  return buildBill({
    source: OX_SOURCE,
    account: input.account,
    billId: sell.id,
    number: sell.id,
    date: sell.finishedTime ?? sell.updatedTime,
    currency: OX_CURRENCY,
    positions,
    payments,
    sourceData: jsonObject.parse(sourceData),
  });
}

/** `count` pieces for `totalMinor`: one part when it divides, else two whose sum is exact. */
export function splitLine(totalMinor: number, count: number): Array<{ priceMinor: number; count: number }> {
  const unit = Math.floor(totalMinor / count);
  const rest = totalMinor - unit * count;
  if (rest === 0) return [{ priceMinor: unit, count }];
  return [
    { priceMinor: unit, count: count - rest },
    { priceMinor: unit + 1, count: rest },
  ];
}

function paymentsOf(
  input: MapOxSellInput,
  sellTotal: number,
): { payments: Payment[]; added: OxSourceData['payment'] } {
  const existing: Payment[] = [];
  (input.sell.payments ?? []).forEach((payment, index) => {
    if (payment.type !== 'sell') {
      throw new ValidationError(
        `payments[${index}].type`,
        `a "${payment.type}" payment on a sell is not supported; fiscalize it by hand`,
      );
    }
    existing.push({
      type: input.paymentTypeOf(payment.paymentMethod),
      amountMinor: payment.price.order[OX_CURRENCY],
    });
  });
  const paid = existing.reduce((sum, p) => sum + p.amountMinor, 0);
  if (input.kind === 'finished') {
    if (existing.length === 0 && sellTotal === 0) existing.push({ type: 'cash', amountMinor: 0 });
    return { payments: mergeByType(existing), added: undefined };
  }
  const rest = sellTotal - paid;
  if (rest < 0)
    throw new BillTotalMismatchError('payments', 'the payments already made', sellTotal, paid, OX_CURRENCY);
  if (rest === 0) {
    if (existing.length === 0) existing.push({ type: 'cash', amountMinor: 0 });
    return { payments: mergeByType(existing), added: undefined };
  }
  if (!input.addedPayment) throw new ValidationError('payments', 'no payment method to pay the sell with');
  existing.push({ type: input.addedPayment.type, amountMinor: rest });
  return {
    payments: mergeByType(existing),
    added: { paymentMethod: input.addedPayment.methodId, priceMinor: rest, paidBeforeMinor: paid },
  };
}

function mergeByType(payments: Payment[]): Payment[] {
  const byType = new Map<PaymentType, number>();
  for (const payment of payments)
    byType.set(payment.type, (byType.get(payment.type) ?? 0) + payment.amountMinor);
  return [...byType].map(([type, amountMinor]) => ({ type, amountMinor }));
}

/** A taxable variation's rate in hundredths of a percent (12 → 1200), with its text. */
function vatPercentOf(
  variation: OxVariation | undefined,
  field: string,
): { text: string; hundredths: number } | undefined {
  if (variation?.taxable !== true) return undefined;
  const text = variation.vatPercent;
  if (text === undefined || text === null) {
    throw new ValidationError(field, 'the variation is taxable but has no vatPercent');
  }
  let hundredths: number;
  try {
    hundredths = parseDecimalToMinor(text, 2, { field, rounding: 'exact' });
  } catch {
    throw new ValidationError(field, `expected a percentage with at most 2 decimals, got ${text}`);
  }
  if (hundredths > 100_00) throw new ValidationError(field, `expected 0..100, got ${text}`);
  return { text, hundredths };
}

function includedVat(amountMinor: number, rateHundredths: number): number {
  if (rateHundredths === 0) return 0;
  const rate = BigInt(rateHundredths);
  return Number(roundHalfUpDiv(BigInt(amountMinor) * rate, 10_000n + rate));
}

/** OX units: "pcs", "kg", "box", "meter". A box is counted in pieces. */
function unitOf(text: string | null | undefined): MeasurementUnit {
  if (!text) return 'piece';
  try {
    return parseUnitName(text);
  } catch {
    return 'piece';
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
