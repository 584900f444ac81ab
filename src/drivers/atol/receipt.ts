import { z } from 'zod';
import { ValidationError } from '../../lib/errors.js';
import { findControlCharacter } from '../../lib/printableText.js';
import { parseWith } from '../../lib/validation.js';
import {
  MAX_BCD7_KOP,
  MAX_POSITION_NAME_LENGTH,
  MAX_QUANTITY_MILLI,
  ReceiptType,
} from './commands/receipt.js';
import { industryInfoSchema, receiptMarkingSchema } from './marking.js';
import { isCp866Encodable } from './protocol/cp866.js';
import {
  CORRECTION_TYPE_NAMES,
  MEASUREMENT_UNIT_NAMES,
  PAYMENT_METHOD_NAMES,
  PAYMENT_OBJECT_NAMES,
  PAYMENT_TYPE_NAMES,
  TAX_TYPES,
  TAXATION_SYSTEM_NAMES,
} from './vocabulary.js';

/**
 * The receipt the `Kkt` facade prints: ATOL's JSON-task shape and names (`type: "sell"`, `items`,
 * `tax.type: "vat20"`, `payments`), with money as integer kopecks and quantities as integer
 * thousandths, so that no float ever reaches the register.
 */
const noControlCharacter = (text: string) => findControlCharacter(text) === undefined;
const CONTROL_MESSAGE = 'contains a control character, which cannot be printed';

const printableText = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine(isCp866Encodable, 'contains characters the register cannot print (CP866)')
    .refine(noControlCharacter, CONTROL_MESSAGE);

const kop = (max = MAX_BCD7_KOP) =>
  z
    .number()
    .int('must be a whole number of kopecks')
    .min(0, 'must not be negative')
    .max(max, `exceeds the register limit of ${max} kopecks`);

const inn = z.string().regex(/^(\d{10}|\d{12})$/, 'must be an INN of 10 or 12 digits');

export const positionSchema = z.object({
  type: z.literal('position'),
  name: printableText(MAX_POSITION_NAME_LENGTH),
  priceKop: kop(),
  quantityMilli: z
    .number()
    .int('must be whole thousandths')
    .min(1, 'must be greater than 0')
    .max(MAX_QUANTITY_MILLI, 'exceeds the register limit'),
  amountKop: kop(),
  tax: z.object({ type: z.enum(TAX_TYPES, { message: `must be one of ${TAX_TYPES.join(', ')}` }) }),
  paymentMethod: z.enum(PAYMENT_METHOD_NAMES).default('fullPayment'),
  paymentObject: z.enum(PAYMENT_OBJECT_NAMES).default('commodity'),
  measurementUnit: z.enum(MEASUREMENT_UNIT_NAMES).default('piece'),
  department: z.number().int().min(0).max(99).default(1),
  /** A marked position (FFD 1.2, docs/protocol/atol-driver10-marking.md): its code and status. */
  marking: receiptMarkingSchema.optional(),
  /** Industry requisites of the position (1260): the permissive mode's check. */
  industryInfo: z.array(industryInfoSchema).min(1).max(4).optional(),
});

export const textItemSchema = z.object({
  type: z.literal('text'),
  text: z
    .string()
    .max(256, 'must be at most 256 characters')
    .refine(isCp866Encodable, 'contains characters the register cannot print (CP866)')
    .refine(noControlCharacter, CONTROL_MESSAGE),
});

/** Receipt types in ATOL's JSON-task names: the four operations (tag 1054), plain or as corrections. */
export const RECEIPT_TYPES = [
  'sell',
  'sellReturn',
  'buy',
  'buyReturn',
  'sellCorrection',
  'sellReturnCorrection',
  'buyCorrection',
  'buyReturnCorrection',
] as const;
export type ReceiptTypeName = (typeof RECEIPT_TYPES)[number];

/** `92`'s receipt type byte per JSON-task type (docs/protocol/atol-v3.md §14): the driver and its emulator. */
export const RECEIPT_TYPE_BYTES: Readonly<Record<ReceiptTypeName, number>> = {
  sell: ReceiptType.Sell,
  sellReturn: ReceiptType.SellReturn,
  buy: ReceiptType.Buy,
  buyReturn: ReceiptType.BuyReturn,
  sellCorrection: ReceiptType.SellCorrection,
  sellReturnCorrection: ReceiptType.SellReturnCorrection,
  buyCorrection: ReceiptType.BuyCorrection,
  buyReturnCorrection: ReceiptType.BuyReturnCorrection,
};

export const isCorrectionType = (type: ReceiptTypeName): boolean => type.endsWith('Correction');

const ISO_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export const receiptSchema = z.object({
  type: z.enum(RECEIPT_TYPES),
  /** Correction receipts only: tags 1173 and 1174 (1178, 1179). */
  correction: z
    .object({
      type: z.enum(CORRECTION_TYPE_NAMES),
      baseDate: z.string().regex(ISO_DATE, 'must be a date YYYY-MM-DD'),
      baseNumber: printableText(32).optional(),
    })
    .optional(),
  /** Tag 1125: a settlement on the internet (needs `clientInfo.emailOrPhone`). */
  internet: z.boolean().default(false),
  taxationType: z.enum(TAXATION_SYSTEM_NAMES).optional(),
  electronically: z.boolean().default(false),
  operator: z.object({ name: printableText(64), vatin: inn.optional() }).optional(),
  clientInfo: z
    .object({
      emailOrPhone: printableText(64).optional(),
      name: printableText(128).optional(),
      vatin: inn.optional(),
    })
    .optional(),
  items: z
    .array(z.discriminatedUnion('type', [positionSchema, textItemSchema]))
    .min(1, 'needs at least one item')
    .max(1000, 'at most 1000 items'),
  payments: z
    .array(
      z.object({
        type: z.enum(PAYMENT_TYPE_NAMES),
        sumKop: kop(9_999_999_999).refine((v) => v > 0, 'must be greater than 0'),
      }),
    )
    .min(1, 'needs at least one payment')
    .max(10, 'at most 10 payments'),
  totalKop: kop().optional(),
  /** Written as tag 1192 (additional receipt attribute): lets a reconcile recognise our own receipt. */
  marker: z
    .string()
    .regex(/^[\x20-\x7e]{1,16}$/, 'must be 1–16 printable ASCII characters')
    .optional(),
});

export type ReceiptInput = z.input<typeof receiptSchema>;
export type Receipt = z.output<typeof receiptSchema>;
export type ReceiptPosition = z.output<typeof positionSchema>;

/** price × quantity / 1000, rounded half-up to a kopeck, in exact integer arithmetic. */
export function positionAmountKop(priceKop: number, quantityMilli: number): number {
  const product = BigInt(priceKop) * BigInt(quantityMilli);
  return Number((product + 500n) / 1000n);
}

/**
 * Validates a receipt completely before a single byte goes to the register: shape, limits, each
 * amount, the total and the payments. Throws `ValidationError` naming the field.
 */
export function validateReceipt(input: unknown): Receipt {
  const receipt = parseWith(receiptSchema, input);
  let totalKop = 0;
  receipt.items.forEach((item, index) => {
    if (item.type !== 'position') return;
    if (item.marking?.fraction && (item.quantityMilli !== 1000 || item.measurementUnit !== 'piece')) {
      throw new ValidationError(
        `items[${index}].marking.fraction`,
        'a part of a pack is one piece (quantity 1, unit piece)',
      );
    }
    const expected = positionAmountKop(item.priceKop, item.quantityMilli);
    if (item.amountKop !== expected) {
      throw new ValidationError(
        `items[${index}].amountKop`,
        `is ${item.amountKop} but price × quantity is ${expected} kopecks`,
      );
    }
    totalKop += item.amountKop;
  });
  if (!receipt.items.some((item) => item.type === 'position')) {
    throw new ValidationError('items', 'needs at least one position');
  }
  if (totalKop > MAX_BCD7_KOP)
    throw new ValidationError('items', 'the receipt total exceeds the register limit');
  if (receipt.totalKop !== undefined && receipt.totalKop !== totalKop) {
    throw new ValidationError(
      'totalKop',
      `is ${receipt.totalKop} but the positions add up to ${totalKop} kopecks`,
    );
  }
  const paidKop = receipt.payments.reduce((sum, p) => sum + p.sumKop, 0);
  const nonCashKop = receipt.payments.filter((p) => p.type !== 'cash').reduce((sum, p) => sum + p.sumKop, 0);
  if (nonCashKop > totalKop) {
    throw new ValidationError(
      'payments',
      `non-cash payments (${nonCashKop}) exceed the total (${totalKop} kopecks)`,
    );
  }
  if (paidKop < totalKop) {
    throw new ValidationError('payments', `add up to ${paidKop} but the total is ${totalKop} kopecks`);
  }
  if (receipt.electronically && !receipt.clientInfo?.emailOrPhone) {
    throw new ValidationError('clientInfo.emailOrPhone', 'is required for an electronic-only receipt');
  }
  if (receipt.internet && !receipt.clientInfo?.emailOrPhone) {
    throw new ValidationError(
      'clientInfo.emailOrPhone',
      'is required for a settlement on the internet (1125)',
    );
  }
  if (isCorrectionType(receipt.type) && receipt.correction === undefined) {
    throw new ValidationError(
      'correction.baseDate',
      'a correction receipt needs the date of the corrected settlement',
    );
  }
  if (!isCorrectionType(receipt.type) && receipt.correction !== undefined) {
    throw new ValidationError('correction', `a ${receipt.type} receipt is not a correction`);
  }
  if (receipt.correction?.type === 'instruction' && receipt.correction.baseNumber === undefined) {
    throw new ValidationError(
      'correction.baseNumber',
      "is required for a correction by the tax office's order",
    );
  }
  return { ...receipt, totalKop };
}
