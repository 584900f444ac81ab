import { z } from 'zod';
import { parseDecimalToMinor } from '../../../lib/decimal.js';
import { KktAgentError, ValidationError } from '../../../lib/errors.js';
import { parseWithSchema } from '../../../lib/json.js';
import {
  type Bill,
  type BillCashier,
  buildBill,
  buildPosition,
  type ContactCandidates,
  calculatedFormOf,
  chooseCustomerContact,
  type MeasurementUnit,
  mulDivHalfUp,
  type Payment,
  type PaymentObject,
  type PaymentType,
  type Position,
  parseQuantityMilli,
  parseUnitName,
  type TaxationSystem,
  type VatType,
  vatTypeFromPercent,
} from '../../domain/index.js';
import type { JobOperation } from '../../jobs/job.js';
import { cashierByMeta, type MoyskladCashier } from './cashiers.js';
import { MoyskladBillError } from './errors.js';
import {
  counterpartySchema,
  customerOrderSchema,
  isMoyskladTaxSystem,
  type MoyskladTaxSystem,
  masterOperationSchema,
  metaSchema,
  nativeIdOf,
  plainMeta,
  syncIdOf,
  taxationSystemOf,
  type WireCustomerOrder,
  type WireMasterOperation,
  type WirePosition,
} from './wire.js';

/**
 * MoySklad documents → bills. Prices are kopecks (B.5.7), quantities decimals (weights), `discount` a
 * percentage; VAT follows the assortment semantics of B.5.9: `vatEnabled:false` is "без НДС", `vat:0` with
 * `vatEnabled:true` is 0 %. What the sink needs back (metas, the VAT fields as MoySklad wrote them) travels
 * in `Bill.sourceData`.
 */

export const MOYSKLAD_SOURCE = 'moysklad';
export const MOYSKLAD_CURRENCY = 'RUB';
/** FFD tag 1030 holds 128 characters; MoySklad names may be longer. */
const POSITION_NAME_MAX = 128;

const PAYMENT_OBJECT_BY_ITEM_TYPE: Record<string, PaymentObject> = {
  GOOD: 'commodity',
  EXCISABLE_GOOD: 'excise',
  COMPOUND_PAYMENT_ITEM: 'composite',
  ANOTHER_PAYMENT_ITEM: 'another',
  SERVICE: 'service',
  WORK: 'job',
  PROVIDING_RID: 'intellectualActivity',
};

const plainMetaSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

const sourcePositionSchema = z.strictObject({
  assortment: plainMetaSchema,
  /** Unit price after the discount, kopecks: what was printed and what the retail demand says. */
  priceKop: z.number().int().min(0),
  vat: z.number().int().min(0).max(100),
  vatEnabled: z.boolean(),
});

/** What a customer-order bill carries for its retail demand. */
export const customerOrderSourceSchema = z.strictObject({
  kind: z.literal('customerorder'),
  orderId: z.string(),
  order: plainMetaSchema,
  agent: plainMetaSchema.optional(),
  vatEnabled: z.boolean(),
  taxSystem: z.string().optional(),
  positions: z.array(sourcePositionSchema),
});

/** What a master-queue bill carries for its approve or reject. */
export const masterSourceSchema = z.strictObject({
  kind: z.literal('master'),
  operationType: z.string(),
  operation: plainMetaSchema,
  taxSystem: z.string().optional(),
});

export const moyskladSourceDataSchema = z.discriminatedUnion('kind', [
  customerOrderSourceSchema,
  masterSourceSchema,
]);
export type MoyskladSourceData = z.infer<typeof moyskladSourceDataSchema>;
export type CustomerOrderSourceData = z.infer<typeof customerOrderSourceSchema>;
export type MasterSourceData = z.infer<typeof masterSourceSchema>;

/** The sourceData of a bill this connector made, or undefined. */
export function readSourceData(bill: Bill | undefined): MoyskladSourceData | undefined {
  const parsed = moyskladSourceDataSchema.safeParse(bill?.sourceData);
  return parsed.success ? parsed.data : undefined;
}

// --- amounts --------------------------------------------------------------------------------------------

function kopecks(text: string, field: string): number {
  return parseDecimalToMinor(text, 0, { field, rounding: 'exact' });
}

/** A discount percentage with up to 2 decimals as basis points; negative is a markup ("наценка"). */
function discountBasisPoints(text: string | undefined, field: string): number {
  if (text === undefined) return 0;
  const bp = parseDecimalToMinor(text, 2, { field, rounding: 'exact', allowNegative: true });
  if (bp > 10_000 || bp < -10_000) throw new ValidationError(field, `discount ${text}% is out of range`);
  return bp;
}

function vatPercent(text: string | undefined, field: string): number {
  if (text === undefined) return 0;
  const value = parseDecimalToMinor(text, 0, { field, rounding: 'exact' });
  if (value > 100) throw new ValidationError(field, `VAT ${text}% is above 100`);
  return value;
}

/** B.5.9: `vatEnabled:false` → без НДС; `vatEnabled:true` with 0 → 0 %; other rates as the register knows them. */
export function vatTypeOf(percent: number, enabled: boolean, field: string): VatType {
  if (!enabled) return 'none';
  if (percent === 0) return 'vat0';
  try {
    return vatTypeFromPercent(percent, { field });
  } catch {
    throw new MoyskladBillError(field, `VAT ${percent}% has no register tax type`);
  }
}

function unitOf(uom: WirePosition['assortment']['uom'], field: string): MeasurementUnit {
  const name = typeof uom === 'string' ? uom : uom?.name;
  if (name === undefined || name.trim() === '') return 'piece';
  try {
    return parseUnitName(name, field);
  } catch {
    // MoySklad units are free text ("упак", "набор"): a counted thing the register prints as pieces.
    return 'piece';
  }
}

interface MappedPosition {
  position: Position;
  source: z.infer<typeof sourcePositionSchema>;
}

/** `trackingType` values that mean "not marked" (docs/moysklad.md, "Marked goods"). */
const NOT_TRACKED = new Set(['NOT_TRACKED', '']);

/**
 * The marking codes of a position, one per bill position: a marked piece is one position per code (the
 * quantity must equal the number of codes), goods by weight carry one code for the whole quantity. A
 * tracked position without codes is refused, never printed as unmarked.
 */
function marksOf(raw: WirePosition, unit: MeasurementUnit, field: string): string[] | undefined {
  const codes = (raw.marks ?? []).map((mark) => mark.cis);
  const tracking = raw.assortment.trackingType?.trim() ?? '';
  const name = raw.assortment.name?.trim() ?? '';
  if (codes.length === 0) {
    if (NOT_TRACKED.has(tracking)) return undefined;
    throw new MoyskladBillError(
      `${field}.marks`,
      `"${name}" is marked goods (${tracking}) but the document carries no marking code for it: scan its code at the till; it is not printed as unmarked`,
    );
  }
  const byMeasure = unit !== 'piece' || raw.assortment.soldByWeight === true;
  if (byMeasure) {
    if (codes.length !== 1) {
      throw new MoyskladBillError(
        `${field}.marks`,
        `goods sold by weight carry one code, "${name}" has ${codes.length}`,
      );
    }
    return codes;
  }
  const pieces = Number(raw.quantity);
  if (!Number.isInteger(pieces) || pieces !== codes.length) {
    throw new MoyskladBillError(
      `${field}.marks`,
      `"${name}": ${codes.length} marking code(s) for a quantity of ${raw.quantity}; a marked piece carries one code each`,
    );
  }
  return codes;
}

/** A document position as bill positions: one, or one per marking code of marked pieces. */
function mapPositions(raw: WirePosition, documentVatEnabled: boolean, field: string): MappedPosition[] {
  const mapped = mapPosition(raw, documentVatEnabled, field);
  const codes = marksOf(raw, mapped.position.unit, field);
  if (codes === undefined) return [mapped];
  const { amountMinor: _amount, vatMinor: _vat, marking: _marking, ...input } = mapped.position;
  const single = codes.length === 1 && mapped.position.unit !== 'piece';
  return codes.map((code, index) => ({
    source: mapped.source,
    position: buildPosition(
      {
        ...input,
        ...(single ? {} : { quantityMilli: 1000 }),
        marking: { code },
      },
      `${field}.marks[${index}]`,
    ),
  }));
}

function mapPosition(raw: WirePosition, documentVatEnabled: boolean, field: string): MappedPosition {
  const name = raw.assortment.name?.trim();
  if (!name) throw new MoyskladBillError(`${field}.assortment.name`, 'the position has no name');
  const priceKop = kopecks(raw.price, `${field}.price`);
  const quantityMilli = parseQuantityMilli(raw.quantity, `${field}.quantity`);
  const bp = discountBasisPoints(raw.discount, `${field}.discount`);
  // The unit price the customer pays, rounded half-up to the kopeck; the register multiplies it out.
  const unitPriceKop = bp === 0 ? priceKop : mulDivHalfUp(priceKop, 10_000 - bp, 10_000, `${field}.price`);
  const enabled = raw.vatEnabled ?? documentVatEnabled;
  const percent = vatPercent(raw.vat, `${field}.vat`);
  const vat = vatTypeOf(percent, enabled, `${field}.vat`);
  const code = raw.assortment.code?.trim();
  const position = buildPosition(
    {
      name: name.slice(0, POSITION_NAME_MAX),
      ...(code && code.length <= 64 ? { code } : {}),
      priceMinor: unitPriceKop,
      quantityMilli,
      vat,
      unit: unitOf(raw.assortment.uom, `${field}.assortment.uom`),
      paymentObject: PAYMENT_OBJECT_BY_ITEM_TYPE[raw.assortment.paymentItemType ?? 'GOOD'] ?? 'commodity',
    },
    field,
  );
  return {
    position,
    source: {
      assortment: plainMeta(raw.assortment.meta),
      priceKop: unitPriceKop,
      vat: percent,
      vatEnabled: enabled,
    },
  };
}

function taxationOf(
  code: string | undefined,
  field: string,
): { system?: TaxationSystem; code?: MoyskladTaxSystem } {
  if (code === undefined) return {};
  if (!isMoyskladTaxSystem(code)) throw new MoyskladBillError(field, `unknown tax system "${code}"`);
  const system = taxationSystemOf(code);
  if (system === undefined) {
    throw new MoyskladBillError(field, `${code} (ЕНВД) no longer exists and cannot go on a receipt`);
  }
  return { system, code };
}

function billNumber(name: string | undefined, fallback: string): string {
  const trimmed = name?.trim();
  return trimmed ? trimmed.slice(0, 64) : fallback.slice(0, 64);
}

// --- customer orders ------------------------------------------------------------------------------------

export interface CustomerOrderCandidate {
  order: WireCustomerOrder;
  billId: string;
}

/** Parses one row of `GET /entity/customerorder` (ValidationError naming the field when it is not an order). */
export function parseCustomerOrder(raw: unknown): WireCustomerOrder {
  return parseWithSchema(customerOrderSchema, raw, 'order');
}

export const customerOrderBillId = (orderId: string) => `customerorder:${orderId.toLowerCase()}`;

/** Why an order must not be fiscalized as it stands, or undefined when it may be. */
export function customerOrderSkipReason(order: WireCustomerOrder): string | undefined {
  const paid = [order.paidInCash, order.paidNoCash, order.paidByQr].some(
    (value) => value !== undefined && Number(value) !== 0,
  );
  if (paid)
    return 'already (partly) paid: settling a paid order needs a prepayment flow this agent does not run';
  if ((order.prepayments?.length ?? 0) > 0) return 'has prepayments';
  if (order.shippedSum !== undefined && Number(order.shippedSum) !== 0)
    return 'already shipped (a retail demand exists)';
  if (order.positions.length === 0) return 'has no positions';
  return undefined;
}

export interface MapCustomerOrderOptions {
  account: string;
  payment: PaymentType;
  /** The store's `orderTaxSystem` / `defaultTaxSystem`, used when the order names none. */
  defaultTaxSystem?: string;
  /** The MoySklad cashier the agent works as (its paired uid), named on the receipt. */
  cashier?: BillCashier;
  /** The buyer's contact for tag 1008, from the order's counterparty (`counterpartyContact`). */
  emailOrPhone?: string;
}

export function mapCustomerOrder(order: WireCustomerOrder, options: MapCustomerOrderOptions): Bill {
  if (order.vatEnabled === true && order.vatIncluded === false) {
    throw new MoyskladBillError(
      'order.vatIncluded',
      'VAT added on top of prices is not supported; prices must include VAT',
    );
  }
  const vatEnabled = order.vatEnabled ?? false;
  const mapped = order.positions.flatMap((raw, index) =>
    mapPositions(raw, vatEnabled, `order.positions[${index}]`),
  );
  const taxation = taxationOf(order.taxSystem ?? options.defaultTaxSystem, 'order.taxSystem');
  const source: CustomerOrderSourceData = {
    kind: 'customerorder',
    orderId: order.id.toLowerCase(),
    order: plainMeta(order.meta),
    vatEnabled,
    positions: mapped.map((item) => item.source),
  };
  if (order.agent) source.agent = plainMeta(order.agent.meta);
  if (taxation.code) source.taxSystem = taxation.code;
  return buildBill({
    source: MOYSKLAD_SOURCE,
    account: options.account,
    billId: customerOrderBillId(order.id),
    number: billNumber(order.name, order.id),
    ...(order.moment ? { date: order.moment } : {}),
    currency: MOYSKLAD_CURRENCY,
    ...(taxation.system ? { taxationSystem: taxation.system } : {}),
    ...(options.cashier ? { cashier: options.cashier } : {}),
    ...(options.emailOrPhone !== undefined ? { customer: { emailOrPhone: options.emailOrPhone } } : {}),
    positions: mapped.map((item) => item.position),
    payments: options.payment,
    sourceData: source,
  });
}

// --- the buyer of a customer order -------------------------------------------------------------------

/** The id of an order's counterparty (`agent.meta`), or undefined when the meta names none. */
export function agentIdOf(order: WireCustomerOrder): string | undefined {
  const meta = order.agent?.meta;
  if (meta === undefined) return undefined;
  const id = meta.id ?? syncIdOf(meta.href) ?? nativeIdOf(meta.href);
  return id?.toLowerCase();
}

/** The row of `GET /entity/counterparty` that is the counterparty `agentId`, or undefined. */
export function findCounterparty(rows: readonly unknown[], agentId: string): unknown {
  return rows.find((row) => {
    if (row === null || typeof row !== 'object') return false;
    const { id, meta } = row as { id?: unknown; meta?: { href?: unknown } };
    if (typeof id === 'string' && id.toLowerCase() === agentId) return true;
    const href = meta?.href;
    return typeof href === 'string' && (syncIdOf(href) ?? nativeIdOf(href)) === agentId;
  });
}

/**
 * The buyer's contact for tag 1008 from the order's counterparty: its `phone` or `email`, one of them when
 * both are there by the store's `isPhonePriority` (docs/moysklad.md, "The buyer's contact"). Typed in the
 * back office as free text, so it is normalised (customerContact.ts); one that no receipt can go to is a
 * MoyskladBillError naming `counterparty.phone` / `counterparty.email`, never the value.
 */
export function counterpartyContact(raw: unknown, phonePriority = true): string | undefined {
  return contactFor(() => {
    const { phone, email } = parseWithSchema(counterpartySchema, raw, 'counterparty');
    return {
      ...(phone !== undefined ? { phone: { value: phone, field: 'counterparty.phone' } } : {}),
      ...(email !== undefined ? { email: { value: email, field: 'counterparty.email' } } : {}),
    };
  }, phonePriority);
}

/** chooseCustomerContact on what `read` finds, its ValidationErrors as the MoyskladBillError a mapping throws. */
function contactFor(read: () => ContactCandidates, phonePriority: boolean): string | undefined {
  try {
    return chooseCustomerContact(read(), phonePriority);
  } catch (error) {
    if (error instanceof ValidationError)
      throw new MoyskladBillError(error.field, String(error.details.reason));
    throw error;
  }
}

// --- master queue ---------------------------------------------------------------------------------------

const OPERATIONS: Record<string, JobOperation> = {
  retaildemand: 'sell',
  retailsalesreturn: 'sellReturn',
  // Money taken for an order before its goods are handed over, and that money given back: tag 1214 = 1
  // on every position, VAT at the calculated rate (docs/moysklad.md, "Prepayments").
  prepayment: 'sell',
  prepaymentreturn: 'sellReturn',
};

const PREPAYMENT_TYPES: ReadonlySet<string> = new Set(['prepayment', 'prepaymentreturn']);

/** A position of a prepayment: full prepayment (1214 = 1) at the calculated form of its VAT rate. */
function asPrepayment(position: Position, field: string): Position {
  const vat = calculatedFormOf(position.vat);
  if (vat === undefined) {
    throw new MoyskladBillError(`${field}.vat`, `a prepayment at ${position.vat} has no calculated VAT rate`);
  }
  return buildPosition(
    {
      name: position.name,
      ...(position.code !== undefined ? { code: position.code } : {}),
      priceMinor: position.priceMinor,
      quantityMilli: position.quantityMilli,
      vat,
      unit: position.unit,
      paymentMethod: 'fullPrepayment',
      paymentObject: position.paymentObject,
    },
    field,
  );
}

export interface MasterOperationKey {
  billId: string;
  number?: string;
  type: string;
  meta: Record<string, string | number | boolean | null>;
}

/** Identity of a polled operation, read before anything else so that even a broken one can be rejected. */
export function masterOperationKey(raw: unknown): MasterOperationKey | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const record = raw as Record<string, unknown>;
  const meta = metaSchema.safeParse(record.meta);
  if (!meta.success) return undefined;
  const href = meta.data.href;
  const type = meta.data.type ?? /\/entity\/([a-z]+)\//.exec(href)?.[1];
  if (type === undefined || !/^[a-z]{1,40}$/.test(type)) return undefined;
  const syncId =
    syncIdOf(href) ??
    (meta.data.idType === 'sync' && meta.data.id ? meta.data.id.toLowerCase() : undefined) ??
    nativeIdOf(href);
  if (syncId === undefined) return undefined;
  const key: MasterOperationKey = { billId: `${type}:${syncId}`, type, meta: plainMeta(meta.data) };
  if (typeof record.name === 'string' && record.name.trim() !== '')
    key.number = record.name.trim().slice(0, 64);
  return key;
}

export interface MapMasterOptions {
  account: string;
  defaultTaxSystem?: string;
  /** The store's cashiers: the one the operation's `cashier.meta` names goes on the receipt. */
  cashiers?: readonly MoyskladCashier[];
  /** The store's `isPhonePriority`: when an operation names both, the phone wins unless this is false. */
  phonePriority?: boolean;
}

/**
 * The buyer's contact for tag 1008 from the operation's `cheque.phone` / `cheque.email` (where the
 * minion wants the electronic receipt sent), else the quick-start's `chequePhone` / `chequeEmail`; one of
 * them when both are there, by the store's priority, normalised by the one rule (customerContact.ts).
 * None when the operation says no electronic receipt (`cheque.online` or `electronicCheque` false): the
 * buyer's number is then no address for one. Errors name the field, never the value: a contact must not
 * reach the logs.
 */
export function buyerContact(op: WireMasterOperation, phonePriority = true): string | undefined {
  if (op.cheque?.online === false || op.electronicCheque === false) return undefined;
  const given = (field: string, value: string | undefined) =>
    value?.trim() ? { field: `operation.${field}`, value } : undefined;
  const phone = given('cheque.phone', op.cheque?.phone) ?? given('chequePhone', op.chequePhone);
  const email = given('cheque.email', op.cheque?.email) ?? given('chequeEmail', op.chequeEmail);
  return contactFor(() => ({ ...(phone ? { phone } : {}), ...(email ? { email } : {}) }), phonePriority);
}

/** A polled operation → the bill and whether it is a sale or a return. Throws KktAgentError for what cannot print. */
export function mapMasterOperation(
  raw: unknown,
  key: MasterOperationKey,
  options: MapMasterOptions,
): { bill: Bill; operation: JobOperation } {
  const operation = OPERATIONS[key.type];
  if (operation === undefined) {
    throw new MoyskladBillError(
      'operation.meta.type',
      `"${key.type}" operations are not fiscalized by this agent`,
    );
  }
  const op = parseWithSchema(masterOperationSchema, raw, 'operation');
  if (op.vatEnabled === true && op.vatIncluded === false) {
    throw new MoyskladBillError('operation.vatIncluded', 'VAT added on top of prices is not supported');
  }
  const mapped = op.positions.flatMap((position, index) =>
    mapPositions(position, op.vatEnabled ?? false, `operation.positions[${index}]`),
  );
  const prepayment = PREPAYMENT_TYPES.has(key.type);
  const orderId = op.customerOrder
    ? (syncIdOf(op.customerOrder.meta.href) ?? nativeIdOf(op.customerOrder.meta.href))
    : undefined;
  if (prepayment && orderId === undefined) {
    throw new MoyskladBillError(
      'operation.customerOrder',
      'a prepayment must name the customer order it is for',
    );
  }
  const positions = mapped.map((item, index) =>
    prepayment ? asPrepayment(item.position, `operation.positions[${index}]`) : item.position,
  );
  const payments: Payment[] = [];
  const add = (type: PaymentType, texts: Array<string | undefined>, field: string) => {
    let amount = 0;
    for (const text of texts) if (text !== undefined) amount += kopecks(text, field);
    if (amount > 0) payments.push({ type, amountMinor: amount });
  };
  add('cash', [op.cashSum], 'operation.cashSum');
  add('card', [op.noCashSum, op.qrSum], 'operation.noCashSum');
  add('prepaid', [op.prepaymentCash, op.prepaymentNoCash, op.prepaymentQrSum], 'operation.prepayment');
  if (payments.length === 0) {
    throw new MoyskladBillError('operation.cashSum', 'the operation says nothing about how it was paid');
  }
  const taxation = taxationOf(op.taxSystem ?? options.defaultTaxSystem, 'operation.taxSystem');
  const source: MasterSourceData = { kind: 'master', operationType: key.type, operation: key.meta };
  if (taxation.code) source.taxSystem = taxation.code;
  const cashier = cashierByMeta(options.cashiers ?? [], op.cashier?.meta);
  const contact = buyerContact(op, options.phonePriority);
  const bill = buildBill({
    source: MOYSKLAD_SOURCE,
    account: options.account,
    billId: key.billId,
    number: key.number ?? key.billId.slice(key.type.length + 1, key.type.length + 9),
    ...(op.moment ? { date: op.moment } : {}),
    currency: MOYSKLAD_CURRENCY,
    ...(taxation.system ? { taxationSystem: taxation.system } : {}),
    ...(cashier ? { cashier } : {}),
    ...(contact !== undefined ? { customer: { emailOrPhone: contact } } : {}),
    ...(orderId !== undefined ? { order: `customerorder:${orderId}` } : {}),
    positions,
    payments,
    sourceData: source,
  });
  return { bill, operation };
}

/** The field a mapping error names, for logs. */
export function fieldOf(error: unknown): string | undefined {
  if (error instanceof ValidationError || error instanceof MoyskladBillError) return error.field;
  if (error instanceof KktAgentError && typeof error.details.field === 'string') return error.details.field;
  return undefined;
}
