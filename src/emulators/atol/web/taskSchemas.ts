import { z } from 'zod';
import { RECEIPT_TYPES } from '../../../drivers/atol/receipt.js';
import { DriverError } from '../../../drivers/atol/web/driverErrors.js';
import { formatFieldPath, jsonInteger, jsonMinor } from '../../../lib/json.js';
import { TaskFailure } from './registerPort.js';

/**
 * The JSON tasks the facade understands (docs/protocol/atol-v3.md §12), checked as the external input they are.
 * Numbers arrive as lossless JSON numbers: roubles and units become integer kopecks and thousandths.
 */

const money = jsonMinor({ fractionDigits: 2 });
const quantity = jsonMinor({ fractionDigits: 3 });
const nameOrCode = z.union([z.string(), jsonInteger({ min: 0 })]);

export const operatorSchema = z.object({ name: z.string().min(1), vatin: z.string().optional() });

export const positionItemSchema = z.object({
  type: z.literal('position'),
  name: z.string().min(1),
  price: money,
  quantity,
  amount: money,
  department: jsonInteger({ min: 0, max: 99 }).optional(),
  measurementUnit: nameOrCode.optional(),
  paymentMethod: nameOrCode.optional(),
  paymentObject: nameOrCode.optional(),
  tax: z.object({ type: z.string() }),
  /** A marked item (FFD 1.2): its code and status, checked and accepted before the receipt. */
  imcParams: z
    .looseObject({
      imcType: z.union([z.string(), jsonInteger({ min: 0 })]).optional(),
      imc: z.string().min(1),
      itemEstimatedStatus: z.string(),
      imcModeProcessing: jsonInteger({ min: 0, max: 255 }).optional(),
      itemFractionalAmount: z
        .string()
        .regex(/^\d+\/\d+$/)
        .optional(),
    })
    .optional(),
  /** Industry requisites of the position (1260): ФОИВ, document date (YYYY.MM.DD), number, value. */
  industryInfo: z
    .array(
      z.object({
        fois: z.string(),
        date: z.string().regex(/^\d{4}\.\d{2}\.\d{2}$/),
        number: z.string(),
        industryAttribute: z.string(),
      }),
    )
    .optional(),
});

export type PositionItem = z.output<typeof positionItemSchema>;

export const textItemSchema = z.object({ type: z.literal('text'), text: z.string() });

export const additionalAttributeItemSchema = z.object({
  type: z.literal('additionalAttribute'),
  value: z.string().min(1),
  print: z.boolean().optional(),
});

export const receiptTaskSchema = z.object({
  type: z.enum(RECEIPT_TYPES),
  // Correction tasks (docs/protocol/atol-v3.md §17): the basis, its date as `YYYY.MM.DD`.
  correctionType: z.enum(['self', 'instruction']).optional(),
  correctionBaseDate: z
    .string()
    .regex(/^\d{4}\.\d{2}\.\d{2}$/, 'expected YYYY.MM.DD')
    .optional(),
  correctionBaseNumber: z.string().optional(),
  taxationType: z.string().optional(),
  electronically: z.boolean().optional(),
  operator: operatorSchema.optional(),
  clientInfo: z
    .object({
      emailOrPhone: z.string().optional(),
      name: z.string().optional(),
      vatin: z.string().optional(),
    })
    .optional(),
  // Items are checked one by one with the schema of their type; print-only types are skipped.
  items: z.array(z.looseObject({ type: z.string() })).min(1),
  payments: z.array(z.object({ type: nameOrCode, sum: money })).min(1),
  total: money.optional(),
});
export type ReceiptTask = z.output<typeof receiptTaskSchema>;

export const operatorTaskSchema = z.object({ type: z.string(), operator: operatorSchema.optional() });

export const cashTaskSchema = z.object({
  type: z.enum(['cashIn', 'cashOut']),
  cashSum: money,
  operator: operatorSchema.optional(),
});

export const fnDocumentTaskSchema = z.object({
  type: z.literal('getFnDocument'),
  fiscalDocumentNumber: jsonInteger({ min: 1 }),
});

const MONEY_FIELDS = new Set(['price', 'amount', 'sum', 'cashSum', 'total']);

/** Parses a task or fails it the way the driver would: a missing field, a bad sum or quantity, a bad value. */
export function parseTask<S extends z.ZodType>(schema: S, value: unknown, root = ''): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = formatFieldPath(issue.path, root);
  const last = issue.path.at(-1);
  const code =
    issue.code === 'invalid_type' && /received undefined/.test(issue.message)
      ? DriverError.NO_REQUIRED_PARAM
      : typeof last === 'string' && MONEY_FIELDS.has(last)
        ? DriverError.INVALID_SUM
        : last === 'quantity'
          ? DriverError.INVALID_QUANTITY
          : DriverError.INVALID_PARAM;
  const what =
    code === DriverError.NO_REQUIRED_PARAM
      ? 'Не найден обязательный параметр'
      : 'Некорректное значение параметра';
  throw new TaskFailure(code, `${what} (${field || 'задание'}: ${issue.message})`);
}
