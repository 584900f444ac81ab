import { z } from 'zod';
import { jsonDecimal, jsonIdString, jsonInteger, jsonMinor } from '../../../lib/json.js';
import { MAX_AMOUNT_MINOR } from '../../domain/money.js';
import { OX_DATETIME_PATTERN } from './time.js';

/**
 * The parts of OX System's answers the agent reads (docs/protocol/oxsystem.md §3), over `parseJsonLossless`
 * output. Objects are not strict: OX sends many more fields, and new ones must not break a shop's till.
 */

/** OX amounts are whole so'm (UZS has no minor unit in practice): 3000 is 3000 so'm, never 30.00. */
export const OX_CURRENCY = 'UZS';

/** A whole-so'm JSON number; a fraction ("3000.5") is an error, not a rounding. */
export const uzsAmount = jsonMinor({ fractionDigits: 0, max: MAX_AMOUNT_MINOR });

const oxDateTime = z.string().regex(OX_DATETIME_PATTERN, 'expected YYYY-MM-DD HH:mm:ss');

/** A Price object: `{first, ratio, order: {UZS, USD, EUR}}`. Only `order.UZS` is read. */
export const priceSchema = z.object({
  order: z.object({ [OX_CURRENCY]: uzsAmount }),
});

export const loginAnswerSchema = z.object({
  token: z.string().regex(/^\S+$/, 'expected a token without spaces'),
  /** Seconds (1036800 = 12 days in the doc). */
  lifetime: jsonInteger({ min: 1 }).nullish(),
});

export const paymentMethodSchema = z.object({
  id: jsonInteger({ min: 1 }),
  name: z.string().nullish(),
  active: z.boolean().nullish(),
  cash: z.boolean().nullish(),
  wallet: z.boolean().nullish(),
});
export type OxPaymentMethod = z.output<typeof paymentMethodSchema>;

export const cashdeskSchema = z.object({
  id: jsonIdString(),
  name: z.string().nullish(),
  active: z.boolean().nullish(),
  paymentMethods: z.array(paymentMethodSchema),
  onlineKKM: z.boolean().nullish(),
  tinNumber: z.string().nullish(),
  vatNumber: z.string().nullish(),
});
export type OxCashdesk = z.output<typeof cashdeskSchema>;

/**
 * What selection needs: enough to tell open, postponed and finished sells apart (docs/protocol/oxsystem.md
 * §3).
 */
export const sellHeadSchema = z.object({
  id: jsonIdString(),
  updatedTime: oxDateTime,
  /** `true` while the sell is a cart; `false` once finished. The sample's `status` stays "cart" regardless. */
  draft: z.boolean(),
  finishedTime: oxDateTime.nullable(),
  isPostpone: z.boolean().nullish(),
  isDebt: z.boolean().nullish(),
  note: z.string().nullish(),
  status: z.string().nullish(),
});
export type OxSellHead = z.output<typeof sellHeadSchema>;

export const sellPaymentSchema = z.object({
  id: jsonIdString().nullish(),
  paymentMethod: jsonInteger({ min: 1 }),
  price: priceSchema,
  /** "sell" or "refund". */
  type: z.string(),
  status: z.string().nullish(),
});
export type OxSellPayment = z.output<typeof sellPaymentSchema>;

/** A sell card. Lines stay unparsed here: each is checked where it is mapped, so errors name the line. */
export const sellSchema = sellHeadSchema.extend({
  time: oxDateTime.nullish(),
  sellRecords: z.array(z.unknown()),
  refundRecords: z.array(z.unknown()).nullish(),
  returnRecords: z.array(z.unknown()).nullish(),
  total: priceSchema,
  payments: z.array(sellPaymentSchema).nullish(),
});
export type OxSell = z.output<typeof sellSchema>;

/** `taxable`/`vatPercent` (a float; required when taxable) and `unit` ("pcs", "kg", "box", "meter"). */
export const variationSchema = z.object({
  id: jsonIdString(),
  name: z.string().nullish(),
  taxable: z.boolean().nullish(),
  vatPercent: jsonDecimal().nullish(),
  unit: z.string().nullish(),
});
export type OxVariation = z.output<typeof variationSchema>;

const countSchema = jsonInteger({ min: 0, max: 9_999_999 });

export const sellRecordSchema = z.object({
  id: jsonIdString(),
  variationName: z.string().regex(/\S/, 'must not be empty'),
  /** Pieces: an integer in the doc ("Количество int"). */
  count: countSchema,
  /** The line's amount after discounts. */
  total: priceSchema,
  /** The unit price after discounts. */
  finalPrice: priceSchema.nullish(),
  /** An id in every sample; an embedded variation object is read for its VAT and unit. */
  variation: z.union([jsonIdString(), variationSchema]).nullish(),
  deleted: z.boolean().nullish(),
});
export type OxSellRecord = z.output<typeof sellRecordSchema>;

export const sellListSchema = z.object({
  items: z.array(z.unknown()),
});
