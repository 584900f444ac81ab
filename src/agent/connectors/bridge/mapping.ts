import { z } from 'zod';
import { formatMinor } from '../../../lib/decimal.js';
import { ValidationError } from '../../../lib/errors.js';
import { jsonIdString, LosslessNumber, losslessToPlain, parseWithSchema } from '../../../lib/json.js';
import { assertNoControlCharacters } from '../../../lib/printableText.js';
import {
  BILL_LIMITS,
  type Bill,
  type BillCustomer,
  BillTotalMismatchError,
  buildBill,
  buildPosition,
  jsonMoneyMinor,
  jsonQuantityMilli,
  type MeasurementUnit,
  type Payment,
  type PaymentObject,
  type Position,
  parseBridgeTaxRate,
  parseUnitName,
  positionsTotalMinor,
} from '../../domain/index.js';
import type { BridgePaymentType, BridgePrepaymentPolicy } from './config.js';

/**
 * A raw `/api/v2` BILL (docs/protocol/bridge-api-v2.md §3) → the agent's Bill. Every problem is a
 * ValidationError naming the field as the bridge spells it (`products[2].price`), or BillTotalMismatchError
 * on `summ`; the connector hands those to `intake.reject` so the bill becomes a FAILED job with that reason.
 *
 * What the ReceiptCreated event needs back verbatim, and the Bill has no place for, goes to `sourceData`
 * (BridgeSourceData below): the raw customer object, the bill's id, number, date and prepayment, and each
 * product's id, type and unit name.
 */

export const BRIDGE_SOURCE = 'bridge';
export const BRIDGE_CURRENCY = 'RUB';

// PHP bridges often print numbers from a DECIMAL column as strings ("1037.00"); the value is unambiguous,
// so decimal text in a string is read like the number it spells, if JSON could write that number (no
// leading zeros: "00" is not one). Anything else stays a string and the schema refuses it, naming the field.
const DECIMAL_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
function numeric<S extends z.ZodType>(schema: S) {
  return z.preprocess(
    (value) =>
      typeof value === 'string' && DECIMAL_TEXT.test(value.trim()) ? new LosslessNumber(value.trim()) : value,
    schema,
  );
}

const money = numeric(jsonMoneyMinor(BRIDGE_CURRENCY));
const notBlank = z.string().regex(/\S/, 'must not be empty');

const productSchema = z.object({
  id: jsonIdString({ maxLength: 64 }),
  /** "NORMAL" in every sample; the receipt's `itemType` echoes it. */
  type: z.string().optional(),
  /** `1` in every sample (a numeric twin of `type`?); a string here is read like `type`. */
  itemType: z.unknown().optional(),
  prodname: notBlank,
  price: money,
  quantity: numeric(jsonQuantityMilli()),
  taxrate: z.string(),
  unitname: z.string(),
});

const customerSchema = z.object({
  id: jsonIdString().optional(),
  inn: z.string(),
  kpp: z.string(),
  reg: z.string(),
  name: z.string(),
  okpo: z.string(),
  fullname: z.string(),
  legalentity: z.boolean(),
});

/**
 * How the customer paid, where a bridge says so: the same values the ReceiptCreated event carries
 * (`paymentSource`, docs/protocol/bridge-api-v2.md §6). The logged bills have no such field; absent, null
 * or "" mean "not said".
 */
const PAYMENT_SOURCES: Record<string, BridgePaymentType> = { PAY_CARD: 'card', PAY_CASH: 'cash' };
const paymentSourceSchema = z
  .union([z.string(), z.null()])
  .transform((value, ctx): BridgePaymentType | undefined => {
    const text = (value ?? '').trim();
    if (text === '') return undefined;
    const type = PAYMENT_SOURCES[text.toUpperCase()];
    if (type === undefined) {
      ctx.addIssue({ code: 'custom', message: `unknown payment source "${text}" (PAY_CARD or PAY_CASH)` });
      return z.NEVER;
    }
    return type;
  });

const rawBillSchema = z.object({
  id: jsonIdString({ maxLength: BILL_LIMITS.billIdLength }),
  date: notBlank.max(BILL_LIMITS.dateLength),
  summ: money,
  number: jsonIdString({ maxLength: BILL_LIMITS.numberLength }),
  customer: customerSchema,
  products: z.array(productSchema).min(1, 'a bill needs at least one product').max(BILL_LIMITS.maxPositions),
  prepayment: money.optional(),
  prepaymentEnable: z.boolean().optional(),
  paymentSource: paymentSourceSchema.optional(),
});

export type RawBridgeBill = z.output<typeof rawBillSchema>;

/** What the ReceiptCreated event needs from the bridge's bill, kept in `Bill.sourceData` (JSON only). */
export interface BridgeSourceData {
  billId: string;
  number: string;
  /** `BILL.date`, verbatim. */
  date: string;
  prepaymentMinor: number;
  /** `BILL.customer` exactly as received, `id` included (numbers as JSON numbers). */
  customer: Record<string, unknown>;
  products: BridgeSourceProduct[];
  /** Who chose the payment type: the command, the bill's `paymentSource`, or the account's default. */
  paymentFrom?: BridgePaymentOrigin;
}

export type BridgePaymentOrigin = 'command' | 'bill' | 'default';

export interface BridgeSourceProduct {
  id: string;
  /** `products[].type`, "NORMAL" when absent. */
  type: string;
  unitname: string;
  /** The full name, only when the printed one had to be shortened to 128 characters. */
  prodname?: string;
}

export const bridgeSourceDataSchema = z.object({
  billId: z.string().min(1),
  number: z.string(),
  date: z.string(),
  prepaymentMinor: z.number().int().min(0),
  customer: z.record(z.string(), z.unknown()),
  products: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      unitname: z.string(),
      prodname: z.string().optional(),
    }),
  ),
  paymentFrom: z.enum(['command', 'bill', 'default']).optional(),
});

export interface MapBridgeBillOptions {
  /** The bridge account (Bill.account). */
  account: string;
  /** The account's default for the single payment that covers the whole total. */
  payment: BridgePaymentType;
  /** What a person's command said; it wins over the bill's own `paymentSource`, which wins over the default. */
  commandPayment?: BridgePaymentType;
  /** The id asked for in `bill/byid/{id}`; a bill with another id is refused. */
  expectedId?: string;
  /** The account's policy for a non-zero `prepayment`; `refuse` when not given. */
  prepayment?: BridgePrepaymentPolicy;
}

/** Raw BILL (parseJsonLossless output) → Bill. Throws ValidationError / BillTotalMismatchError. */
export function mapBridgeBill(raw: unknown, options: MapBridgeBillOptions): Bill {
  const parsed = parseWithSchema(rawBillSchema, raw);
  if (options.expectedId !== undefined && parsed.id !== options.expectedId) {
    throw new ValidationError(
      'id',
      `asked for bill ${options.expectedId}, the bridge returned bill ${parsed.id}`,
    );
  }
  const prepaymentMinor = parsed.prepayment ?? 0;
  if (prepaymentMinor !== 0 && (options.prepayment ?? 'refuse') === 'refuse') {
    // The logs only ever show 0: which advance, which order, nobody has seen (docs/bridge.md).
    throw new ValidationError(
      'prepayment',
      'bills with a prepayment are refused (the account\'s prepayment policy is "refuse"); fiscalize it by hand',
    );
  }
  if (prepaymentMinor > parsed.summ) {
    throw new ValidationError(
      'prepayment',
      `the prepayment (${formatMinor(prepaymentMinor, 2)}) is more than the bill's summ (${formatMinor(parsed.summ, 2)})`,
    );
  }

  const products: BridgeSourceProduct[] = [];
  const positions: Position[] = parsed.products.map((product, index) => {
    const field = `products[${index}]`;
    assertNoControlCharacters(product.prodname, `${field}.prodname`);
    const type = product.type ?? 'NORMAL';
    const name = printableName(product.prodname);
    const sourceProduct: BridgeSourceProduct = { id: product.id, type, unitname: product.unitname };
    if (name !== product.prodname) sourceProduct.prodname = product.prodname;
    products.push(sourceProduct);
    return buildPosition(
      {
        name,
        priceMinor: product.price,
        quantityMilli: product.quantity,
        vat: parseBridgeTaxRate(product.taxrate, `${field}.taxrate`),
        unit: unitOf(product.unitname),
        paymentMethod: 'fullPayment',
        paymentObject: paymentObjectOf(product.type, product.itemType, `${field}.type`),
      },
      field,
    );
  });

  const productsTotal = positionsTotalMinor(positions);
  if (productsTotal !== parsed.summ) {
    throw new BillTotalMismatchError(
      'summ',
      'the products (price × quantity, rounded half-up)',
      parsed.summ,
      productsTotal,
      BRIDGE_CURRENCY,
    );
  }

  const { payment, paymentFrom } = paymentOf(parsed.paymentSource, options);
  // offsetElsewhere: a final settlement (1214 = 4) paid first by the advance, the rest as the bill says.
  const restMinor = parsed.summ - prepaymentMinor;
  const payments: Payment[] | BridgePaymentType =
    prepaymentMinor === 0
      ? payment
      : [
          { type: 'prepaid', amountMinor: prepaymentMinor },
          ...(restMinor > 0 ? [{ type: payment, amountMinor: restMinor }] : []),
        ];
  const sourceData: BridgeSourceData = {
    billId: parsed.id,
    number: parsed.number,
    date: parsed.date,
    prepaymentMinor,
    customer: rawCustomer(raw),
    products,
    paymentFrom,
  };
  const customer = receiptCustomer(parsed.customer);
  return buildBill({
    source: BRIDGE_SOURCE,
    account: options.account,
    billId: parsed.id,
    number: parsed.number,
    date: parsed.date,
    currency: BRIDGE_CURRENCY,
    ...(customer ? { customer } : {}),
    positions,
    payments,
    ...(prepaymentMinor > 0 ? { prepaidElsewhere: true } : {}),
    sourceData: sourceData as unknown as Record<string, unknown>,
  });
}

/** A person's command, else the bill's own `paymentSource`, else the account's `defaultPayment`. */
function paymentOf(
  billPayment: BridgePaymentType | undefined,
  options: MapBridgeBillOptions,
): { payment: BridgePaymentType; paymentFrom: BridgePaymentOrigin } {
  if (options.commandPayment !== undefined)
    return { payment: options.commandPayment, paymentFrom: 'command' };
  if (billPayment !== undefined) return { payment: billPayment, paymentFrom: 'bill' };
  return { payment: options.payment, paymentFrom: 'default' };
}

/** Reads `Bill.sourceData` back; throws ValidationError when the bill did not come from mapBridgeBill. */
export function readBridgeSourceData(sourceData: unknown): BridgeSourceData {
  return parseWithSchema(bridgeSourceDataSchema, sourceData, 'sourceData');
}

/**
 * `type` decides (Evotor's product types): NORMAL → commodity (товар), SERVICE → service (услуга). A string
 * `itemType` is read the same way when `type` is absent; a numeric `itemType` (always 1) carries nothing
 * we can interpret. Marked and excise types are refused: their receipts need marking codes the bill lacks.
 */
function paymentObjectOf(type: string | undefined, itemType: unknown, field: string): PaymentObject {
  const kind = (type ?? (typeof itemType === 'string' ? itemType : 'NORMAL')).trim().toUpperCase();
  if (kind === 'NORMAL') return 'commodity';
  if (kind === 'SERVICE') return 'service';
  if (/_MARKED$/.test(kind) && !kind.endsWith('_NOT_MARKED')) {
    // The bridge's bills carry no field for a marking code (docs/bridge.md, "Marked goods").
    throw new ValidationError(
      field,
      `"${type ?? String(itemType)}" is marked goods (Честный ЗНАК), and the bridge's bill carries no marking code for it: it cannot be sold here; sell it where its code is scanned`,
    );
  }
  throw new ValidationError(
    field,
    `unsupported product type "${type ?? String(itemType)}" (NORMAL or SERVICE)`,
  );
}

/**
 * FFD's tag 2108 code 0 means "pieces or units", so a countable unit the table does not know ("Флакон",
 * "Упаковка", "Пара") is printed as pieces; the event still carries the bridge's own `unitname`.
 */
function unitOf(unitname: string): MeasurementUnit {
  try {
    return parseUnitName(unitname);
  } catch (error) {
    if (error instanceof ValidationError) return 'piece';
    throw error;
  }
}

/** Tag 1030 holds 128 characters: longer names are cut for the receipt (the event keeps the full name). */
function printableName(prodname: string): string {
  const limit = BILL_LIMITS.positionNameLength;
  if (prodname.length <= limit) return prodname;
  const cut = prodname.slice(0, limit);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/**
 * Buyer details go on the receipt only for a legal entity or when an INN is given (our choice,
 * docs/bridge.md; the bill's customer fields: docs/protocol/bridge-api-v2.md §3); a private buyer's name is
 * of no use to the receipt and stays out of the fiscal data.
 */
function receiptCustomer(customer: RawBridgeBill['customer']): BillCustomer | undefined {
  const inn = customer.inn.trim();
  if (!customer.legalentity && inn === '') return undefined;
  const fullname = customer.fullname.trim();
  assertNoControlCharacters(fullname || customer.name, fullname ? 'customer.fullname' : 'customer.name');
  const name = fullname || customer.name.trim();
  const result: BillCustomer = {};
  if (name !== '') result.name = name.slice(0, BILL_LIMITS.customerNameLength);
  if (inn !== '') result.inn = inn;
  return result.name === undefined && result.inn === undefined ? undefined : result;
}

/** The customer object as the bridge sent it, numbers turned into plain JSON (for sourceData). */
function rawCustomer(raw: unknown): Record<string, unknown> {
  const customer = (raw as { customer: unknown }).customer;
  return losslessToPlain(customer) as Record<string, unknown>;
}
