import { z } from 'zod';
import { roundHalfUpDiv } from '../../lib/decimal.js';
import { KktAgentError, ValidationError } from '../../lib/errors.js';
import { parseWithSchema } from '../../lib/json.js';
import { ControlCharacterError, findControlCharacter } from '../../lib/printableText.js';
import { formatPath } from '../../lib/validation.js';
import {
  type IdentificationMark,
  identificationMarkSchema,
  markingProblems,
  type PositionMarking,
  positionMarkingSchema,
} from './marking.js';
import { assertAmountMinor, CURRENCY_CODES, formatMoney, MAX_AMOUNT_MINOR, sumMinor } from './money.js';
import {
  PAYMENT_METHOD_NAMES,
  PAYMENT_OBJECT_NAMES,
  PAYMENT_TYPE_NAMES,
  type PaymentMethod,
  type PaymentObject,
  type PaymentType,
  TAXATION_SYSTEM_NAMES,
  type TaxationSystem,
} from './payment.js';
import {
  assertQuantityMilli,
  formatQuantity,
  lineAmountMinor,
  MAX_QUANTITY_MILLI,
  QUANTITY_SCALE,
} from './quantity.js';
import { CORRECTION_TYPE_NAMES, type CorrectionType } from './receiptKind.js';
import { MEASUREMENT_UNIT_NAMES, type MeasurementUnit } from './units.js';
import { VAT_TYPE_NAMES, type VatType, vatAmountMinor } from './vat.js';

/** The bill every connector produces and the fiscalizer consumes. Money in minor units, VAT included. */
export interface Bill {
  /** 'bridge' | 'mqtt' | 'moysklad' | 'oxsystem' | 'cli' … */
  source: string;
  /** The account within the source. */
  account: string;
  /** The source's id; (source, account, billId) identifies a bill. */
  billId: string;
  number: string;
  /** The source's own date text, verbatim. */
  date?: string;
  /** 'RUB' | 'BYN' | 'UZS' … */
  currency: string;
  customer?: BillCustomer;
  cashier?: BillCashier;
  taxationSystem?: TaxationSystem;
  /** 1..1000 positions. */
  positions: Position[];
  /**
   * What the customer pays with; the sums add up to totalMinor, or exceed it by the change when cash was
   * tendered (only cash can be overpaid: `changeMinor`).
   */
  payments: Payment[];
  totalMinor: number;
  /** A correction receipt's basis (tags 1173, 1174: 1178 date, 1179 order number). */
  correction?: BillCorrection;
  /** The buyer gets the receipt electronically only (at `customer.emailOrPhone`): the register does not print it. */
  electronicOnly?: boolean;
  /** Tag 1125: the settlement was made on the internet; the buyer's contact (1008) is required. */
  internet?: boolean;
  /**
   * The order (deal) an advance, its final receipt, a credit and its repayment belong to, in the source's
   * own words: the agent keeps a ledger per (source, account, order) (docs/fiscalization.md, "Links").
   */
  order?: string;
  /**
   * The «prepaid» payment (1215) offsets an advance receipted outside this agent, which the source vouches
   * for (the bridge's `prepayment` under the `offsetElsewhere` policy, docs/bridge.md): no ledger of ours
   * holds it, so it is not checked against one and needs no `order`.
   */
  prepaidElsewhere?: boolean;
  /** The earlier receipt of this agent that this one returns or corrects. */
  relatesTo?: BillRelation;
  /**
   * What the source needs back verbatim when it reports the receipt (e.g. the bridge's customer object
   * with its trailing spaces). Opaque to the core; JSON only.
   */
  sourceData?: Record<string, unknown>;
}

export interface BillCustomer {
  name?: string;
  inn?: string;
  emailOrPhone?: string;
}

export interface BillCashier {
  name: string;
  inn?: string;
}

export interface BillCorrection {
  /** Tag 1173: on the seller's own initiative, or by the tax office's order. */
  type: CorrectionType;
  /** Tag 1178: the calendar date of the settlement being corrected, `YYYY-MM-DD`. */
  baseDate: string;
  /** Tag 1179: the number of the tax office's order (required for `instruction`). */
  baseNumber?: string;
}

export interface BillRelation {
  /** The job whose receipt this one returns or corrects. */
  jobId: string;
  /** For each position of this bill, the index of the position it returns in that job's bill. */
  positions?: number[];
}

export interface Position {
  name: string;
  code?: string;
  /** Per unit, VAT included. */
  priceMinor: number;
  /** Thousandths of `unit`; > 0. */
  quantityMilli: number;
  /** round-half-up(priceMinor × quantityMilli / 1000). */
  amountMinor: number;
  unit: MeasurementUnit;
  vat: VatType;
  /** VAT included in amountMinor (vatAmountMinor). */
  vatMinor: number;
  paymentMethod: PaymentMethod;
  paymentObject: PaymentObject;
  /** A Russian marking code (Честный ЗНАК) and what goes with it (docs/marking.md). */
  marking?: PositionMarking;
  /** Belarusian identification marks (СИ, УКЗ) for the SmartX terminal. */
  identificationMarks?: IdentificationMark[];
}

export interface Payment {
  type: PaymentType;
  amountMinor: number;
}

/** Field limits. Text limits follow FFD 1.2 where the field ends up in a tag. */
export const BILL_LIMITS = {
  minPositions: 1,
  maxPositions: 1000,
  maxPayments: 10,
  sourceLength: 32,
  accountLength: 128,
  billIdLength: 128,
  numberLength: 64,
  dateLength: 64,
  positionNameLength: 128, // tag 1030
  positionCodeLength: 64,
  customerNameLength: 256, // tag 1227
  emailOrPhoneLength: 64, // tag 1008
  cashierNameLength: 64, // tag 1021
  correctionNumberLength: 32, // tag 1179
  orderLength: 128,
  jobIdLength: 64,
} as const;

/** Σ positions or Σ payments differ from the bill's total. */
export class BillTotalMismatchError extends KktAgentError {
  readonly field: string;
  readonly expectedMinor: number;
  readonly actualMinor: number;

  constructor(field: string, what: string, expectedMinor: number, actualMinor: number, currency: string) {
    const money = (minor: number) => formatMoneySafe(minor, currency);
    const overpaid =
      field === 'payments' && actualMinor > expectedMinor ? ' (only cash can be overpaid: the change)' : '';
    super(
      'BILL_TOTAL_MISMATCH',
      `${field}: the bill total is ${money(expectedMinor)} ${currency} but ${what} add up to ` +
        `${money(actualMinor)} ${currency}${overpaid}. The bill was not fiscalized; correct it in the source system.`,
      { field, expectedMinor, actualMinor, currency },
    );
    this.field = field;
    this.expectedMinor = expectedMinor;
    this.actualMinor = actualMinor;
  }
}

// --- schema ---------------------------------------------------------------------------------------------

const NOT_BLANK = /\S/;

function text(maxLength: number) {
  return z.string().max(maxLength).regex(NOT_BLANK, 'must not be empty');
}

// RU INN has 10 or 12 digits, a Belarusian UNP and an Uzbek STIR 9, an Uzbek PINFL 14. Country rules
// are checked where the receipt is built for a particular device.
const taxId = z.string().regex(/^\d{9,14}$/, 'expected 9 to 14 digits');

const amountMinor = z.number().int().min(0).max(MAX_AMOUNT_MINOR);

const positionSchema = z.strictObject({
  name: text(BILL_LIMITS.positionNameLength),
  code: text(BILL_LIMITS.positionCodeLength).optional(),
  priceMinor: amountMinor,
  quantityMilli: z.number().int().min(1, 'quantity must be greater than 0').max(MAX_QUANTITY_MILLI),
  amountMinor,
  unit: z.enum(MEASUREMENT_UNIT_NAMES),
  vat: z.enum(VAT_TYPE_NAMES),
  vatMinor: amountMinor,
  paymentMethod: z.enum(PAYMENT_METHOD_NAMES),
  paymentObject: z.enum(PAYMENT_OBJECT_NAMES),
  marking: positionMarkingSchema.optional(),
  identificationMarks: z.array(identificationMarkSchema).min(1).max(10).optional(),
});

const paymentSchema = z.strictObject({
  type: z.enum(PAYMENT_TYPE_NAMES),
  amountMinor,
});

const ISO_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

const correctionSchema = z.strictObject({
  type: z.enum(CORRECTION_TYPE_NAMES),
  baseDate: z.string().regex(ISO_DATE, 'expected the date of the corrected settlement, YYYY-MM-DD'),
  baseNumber: text(BILL_LIMITS.correctionNumberLength).optional(),
});

const relationSchema = z.strictObject({
  jobId: text(BILL_LIMITS.jobIdLength),
  positions: z
    .array(
      z
        .number()
        .int()
        .min(0)
        .max(BILL_LIMITS.maxPositions - 1),
    )
    .optional(),
});

/** Structure and limits only; the arithmetic is checked by `billSchema` and `validateBill`. */
export const billShapeSchema = z.strictObject({
  source: text(BILL_LIMITS.sourceLength),
  account: text(BILL_LIMITS.accountLength),
  billId: text(BILL_LIMITS.billIdLength),
  number: text(BILL_LIMITS.numberLength),
  date: text(BILL_LIMITS.dateLength).optional(),
  currency: z.enum(CURRENCY_CODES),
  customer: z
    .strictObject({
      name: text(BILL_LIMITS.customerNameLength).optional(),
      inn: taxId.optional(),
      emailOrPhone: text(BILL_LIMITS.emailOrPhoneLength).optional(),
    })
    .optional(),
  cashier: z
    .strictObject({
      name: text(BILL_LIMITS.cashierNameLength),
      inn: taxId.optional(),
    })
    .optional(),
  taxationSystem: z.enum(TAXATION_SYSTEM_NAMES).optional(),
  positions: z.array(positionSchema).min(BILL_LIMITS.minPositions).max(BILL_LIMITS.maxPositions),
  payments: z.array(paymentSchema).min(1).max(BILL_LIMITS.maxPayments),
  totalMinor: amountMinor,
  correction: correctionSchema.optional(),
  electronicOnly: z.boolean().optional(),
  internet: z.boolean().optional(),
  order: text(BILL_LIMITS.orderLength).optional(),
  prepaidElsewhere: z.boolean().optional(),
  relatesTo: relationSchema.optional(),
  sourceData: z.record(z.string(), z.json()).optional(),
});

/**
 * A Bill in its internal JSON form (e.g. pushed inline over MQTT): integers in minor units and thousandths,
 * plain JS numbers. Rejects bad shapes, limits and arithmetic, each issue on the field it concerns.
 */
export const billSchema: z.ZodType<Bill> = billShapeSchema.superRefine((bill, ctx) => {
  for (const error of controlCharacterErrors(bill)) {
    ctx.addIssue({ code: 'custom', path: error.path, message: error.reason });
  }
  for (const problem of markingProblems(bill.positions)) {
    ctx.addIssue({ code: 'custom', path: problem.path, message: problem.reason });
  }
  for (const problem of arithmeticProblems(bill)) {
    ctx.addIssue({ code: 'custom', path: problem.path, message: problem.reason });
  }
});

// --- text for the register --------------------------------------------------------------------------------

/**
 * Every text of a bill that a register prints or writes into a fiscal tag, with its path: position names
 * and codes, the buyer (1227, 1008) and the cashier (1021). The device adapters bring these into their
 * character set (`printableText`); a control character is refused here already, at intake.
 */
export function registerTexts(bill: Bill): Array<{ path: Array<string | number>; text: string }> {
  const texts: Array<{ path: Array<string | number>; text: string }> = [];
  bill.positions.forEach((position, index) => {
    texts.push({ path: ['positions', index, 'name'], text: position.name });
    if (position.code !== undefined) texts.push({ path: ['positions', index, 'code'], text: position.code });
  });
  if (bill.customer?.name !== undefined) texts.push({ path: ['customer', 'name'], text: bill.customer.name });
  if (bill.customer?.emailOrPhone !== undefined)
    texts.push({ path: ['customer', 'emailOrPhone'], text: bill.customer.emailOrPhone });
  if (bill.cashier !== undefined) texts.push({ path: ['cashier', 'name'], text: bill.cashier.name });
  if (bill.correction?.baseNumber !== undefined)
    texts.push({ path: ['correction', 'baseNumber'], text: bill.correction.baseNumber });
  return texts;
}

function controlCharacterErrors(
  bill: Bill,
): Array<{ path: Array<string | number>; reason: string; error: ControlCharacterError }> {
  const errors = [];
  for (const { path, text } of registerTexts(bill)) {
    const found = findControlCharacter(text);
    if (!found) continue;
    const error = new ControlCharacterError(formatPath(path), found.codePoint, found.position);
    errors.push({ path, reason: String(error.details['reason']), error });
  }
  return errors;
}

// --- arithmetic -----------------------------------------------------------------------------------------

interface ArithmeticProblem {
  path: Array<string | number>;
  field: string;
  reason: string;
  total?: { what: string; expectedMinor: number; actualMinor: number };
}

function arithmeticProblems(bill: Bill): ArithmeticProblem[] {
  const problems: ArithmeticProblem[] = [];
  const money = (minor: number) => formatMoneySafe(minor, bill.currency);

  bill.positions.forEach((position, index) => {
    const field = `positions[${index}]`;
    // bigint: a schema-valid price × quantity can pass 2^53, and then it simply does not match.
    const expectedAmount = roundHalfUpDiv(
      BigInt(position.priceMinor) * BigInt(position.quantityMilli),
      BigInt(QUANTITY_SCALE),
    );
    if (BigInt(position.amountMinor) !== expectedAmount) {
      problems.push({
        path: ['positions', index, 'amountMinor'],
        field: `${field}.amountMinor`,
        reason:
          `expected ${expectedAmount} (${money(position.priceMinor)} × ${formatQuantity(position.quantityMilli)}, ` +
          `rounded half-up), got ${position.amountMinor}`,
      });
    }
    const expectedVat = vatAmountMinor(position.amountMinor, position.vat);
    if (position.vatMinor !== expectedVat) {
      problems.push({
        path: ['positions', index, 'vatMinor'],
        field: `${field}.vatMinor`,
        reason: `expected ${expectedVat} (${position.vat} of ${money(position.amountMinor)}), got ${position.vatMinor}`,
      });
    }
  });

  const positionsTotal = sumMinor(
    bill.positions.map((p) => p.amountMinor),
    'positions',
  );
  if (positionsTotal !== bill.totalMinor) {
    problems.push({
      path: ['totalMinor'],
      field: 'totalMinor',
      reason: `expected ${positionsTotal} (the sum of the positions), got ${bill.totalMinor}`,
      total: { what: 'the positions', expectedMinor: bill.totalMinor, actualMinor: positionsTotal },
    });
  }
  const paymentsTotal = sumMinor(
    bill.payments.map((p) => p.amountMinor),
    'payments',
  );
  if (paymentsTotal < bill.totalMinor) {
    problems.push({
      path: ['payments'],
      field: 'payments',
      reason: `the payments add up to ${paymentsTotal}, the total is ${bill.totalMinor}`,
      total: { what: 'the payments', expectedMinor: bill.totalMinor, actualMinor: paymentsTotal },
    });
  } else if (paymentsTotal > bill.totalMinor) {
    // Only cash can be overpaid: the register gives the rest back as change.
    const cashMinor = sumMinor(
      bill.payments.filter((p) => p.type === 'cash').map((p) => p.amountMinor),
      'payments',
    );
    const changeMinor = paymentsTotal - bill.totalMinor;
    if (cashMinor < changeMinor) {
      problems.push({
        path: ['payments'],
        field: 'payments',
        reason:
          `the payments add up to ${money(paymentsTotal)}, more than the total ${money(bill.totalMinor)}, ` +
          `and only cash can be overpaid (the change); the cash is ${money(cashMinor)}`,
        total: { what: 'the payments', expectedMinor: bill.totalMinor, actualMinor: paymentsTotal },
      });
    }
  }
  return problems;
}

/**
 * Checks a bill completely: shape and limits (ValidationError naming the field, e.g. `positions[3].name`),
 * control characters in text for the register (ControlCharacterError, TEXT_CONTROL_CHARACTER), marked
 * positions (ValidationError MARKING_INVALID on `positions[i].marking…`), each position's amount and VAT (ValidationError on `positions[i].amountMinor` / `.vatMinor`), then the
 * totals (BillTotalMismatchError on `totalMinor` or `payments`). Returns a validated copy.
 */
export function validateBill(input: unknown): Bill {
  const bill: Bill = parseWithSchema(billShapeSchema, input);
  const [control] = controlCharacterErrors(bill);
  if (control) throw control.error;
  const [marking] = markingProblems(bill.positions);
  if (marking) throw new ValidationError(formatPath(marking.path), marking.reason, {}, 'MARKING_INVALID');
  const [problem] = arithmeticProblems(bill);
  if (problem?.total) {
    const { what, expectedMinor, actualMinor } = problem.total;
    throw new BillTotalMismatchError(problem.field, what, expectedMinor, actualMinor, bill.currency);
  }
  if (problem) throw new ValidationError(problem.field, problem.reason);
  return bill;
}

// --- building ---------------------------------------------------------------------------------------------

export interface PositionInput {
  name: string;
  code?: string;
  priceMinor: number;
  quantityMilli: number;
  vat: VatType;
  /** Default `piece`. */
  unit?: MeasurementUnit;
  /** Default `fullPayment` (полный расчёт): the bill is paid and handed over at once. */
  paymentMethod?: PaymentMethod;
  /** Default `commodity` (товар). */
  paymentObject?: PaymentObject;
  marking?: PositionMarking;
  identificationMarks?: IdentificationMark[];
}

/** A Position with amount and VAT computed from price, quantity and VAT type. `field` prefixes errors. */
export function buildPosition(input: PositionInput, field = 'position'): Position {
  assertAmountMinor(input.priceMinor, `${field}.priceMinor`);
  assertQuantityMilli(input.quantityMilli, `${field}.quantityMilli`);
  const amountMinor = lineAmountMinor(input.priceMinor, input.quantityMilli, `${field}.amountMinor`);
  assertAmountMinor(amountMinor, `${field}.amountMinor`);
  const position: Position = {
    name: input.name,
    priceMinor: input.priceMinor,
    quantityMilli: input.quantityMilli,
    amountMinor,
    unit: input.unit ?? 'piece',
    vat: input.vat,
    vatMinor: vatAmountMinor(amountMinor, input.vat),
    paymentMethod: input.paymentMethod ?? 'fullPayment',
    paymentObject: input.paymentObject ?? 'commodity',
  };
  if (input.code !== undefined) position.code = input.code;
  if (input.marking !== undefined) position.marking = input.marking;
  if (input.identificationMarks !== undefined) position.identificationMarks = input.identificationMarks;
  return position;
}

/** The change the register gives back: what the payments exceed the total by (only cash is ever overpaid). */
export function changeMinor(bill: Pick<Bill, 'payments' | 'totalMinor'>): number {
  const paid = sumMinor(
    bill.payments.map((p) => p.amountMinor),
    'payments',
  );
  return Math.max(0, paid - bill.totalMinor);
}

/**
 * What each payment type finally settled: the payments with the change taken out of cash. They add up to
 * the total; reports to clouds carry these (tags 1031, 1081 … of the receipt hold the same).
 */
export function settledPayments(bill: Pick<Bill, 'payments' | 'totalMinor'>): Payment[] {
  let change = changeMinor(bill);
  const settled: Payment[] = [];
  for (const payment of bill.payments) {
    if (payment.type === 'cash' && change > 0) {
      const taken = Math.min(change, payment.amountMinor);
      change -= taken;
      if (payment.amountMinor - taken > 0)
        settled.push({ ...payment, amountMinor: payment.amountMinor - taken });
      continue;
    }
    settled.push(payment);
  }
  return settled;
}

/** Σ position amounts, in minor units. */
export function positionsTotalMinor(positions: readonly Pick<Position, 'amountMinor'>[]): number {
  return sumMinor(
    positions.map((p) => p.amountMinor),
    'positions',
  );
}

export type BillInput = Omit<Bill, 'totalMinor' | 'payments'> & {
  /** Either the payments, or one payment type that covers the whole total. */
  payments: Payment[] | PaymentType;
};

/** Computes totalMinor (and the single payment, if a type is given) and validates the result. */
export function buildBill(input: BillInput): Bill {
  const totalMinor = positionsTotalMinor(input.positions);
  const payments =
    typeof input.payments === 'string' ? [{ type: input.payments, amountMinor: totalMinor }] : input.payments;
  return validateBill({ ...input, payments, totalMinor });
}

function formatMoneySafe(minor: number, currency: string): string {
  try {
    return formatMoney(minor, currency);
  } catch {
    return String(minor);
  }
}
