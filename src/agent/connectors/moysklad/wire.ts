import { z } from 'zod';
import { isLosslessNumber, losslessToPlain } from '../../../lib/json.js';
import { wallClockAt } from '../../../lib/time.js';
import type { TaxationSystem } from '../../domain/index.js';

/**
 * posap 1.0 on the wire: base URL, meta objects with client syncIds, the date format, tax-system codes and
 * the shapes of the answers the connector reads (docs/protocol/moysklad-posap.md §2, §4). Answers are parsed
 * losslessly first; the schemas here accept LosslessNumbers wherever a number is expected.
 */

export const DEFAULT_BASE_URL = 'https://online.moysklad.ru/api/posap/1.0';

/** Any 8-4-4-4-12 hex id: MoySklad's own ids are not always RFC 4122 variants (…-7a69-…). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `https://host/api/posap/1.0/` → `https://host/api/posap/1.0` (hrefs and paths are joined with '/'). */
export function normalizeBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/** `{base}/entity/{type}/syncid/{uuid}`: how posap names a document the client created (error 1057 otherwise). */
export function syncIdHref(baseUrl: string, type: string, syncId: string): string {
  return `${normalizeBaseUrl(baseUrl)}/entity/${type}/syncid/${syncId}`;
}

export interface SyncMeta {
  href: string;
  type: string;
  mediaType: 'application/json';
}

export function syncMeta(baseUrl: string, type: string, syncId: string): SyncMeta {
  return { href: syncIdHref(baseUrl, type, syncId), type, mediaType: 'application/json' };
}

/** The syncId in `…/syncid/<uuid>`, if the href has one. */
export function syncIdOf(href: string): string | undefined {
  const found = /\/syncid\/([0-9a-f-]{36})(?:[/?#]|$)/i.exec(href);
  return found && UUID_PATTERN.test(found[1]!) ? found[1]!.toLowerCase() : undefined;
}

/** The last path segment of an href when it is a UUID (a native id). */
export function nativeIdOf(href: string): string | undefined {
  const path = href.split(/[?#]/)[0] ?? '';
  const last = path.replace(/\/+$/, '').split('/').pop() ?? '';
  return UUID_PATTERN.test(last) ? last.toLowerCase() : undefined;
}

/**
 * `YYYY-MM-DD HH:mm:ss` in `timeZone` (docs/protocol/moysklad-posap.md §2: no zone is stated; MoySklad works
 * in Moscow time, so that is the default). `instant` is an ISO string with an offset or Z.
 */
export function formatMoment(instant: string | Date, timeZone: string): string {
  const date = typeof instant === 'string' ? new Date(instant) : instant;
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a date: ${String(instant)}`);
  const t = wallClockAt(date, timeZone);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
}

export const MOMENT_PATTERN = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{3})?$/;

// --- tax systems (B.5.1) --------------------------------------------------------------------------------

export const MOYSKLAD_TAX_SYSTEMS = [
  'GENERAL_TAX_SYSTEM',
  'SIMPLIFIED_TAX_SYSTEM_INCOME',
  'SIMPLIFIED_TAX_SYSTEM_INCOME_OUTCOME',
  'UNIFIED_AGRICULTURAL_TAX',
  'PRESUMPTIVE_TAX_SYSTEM',
  'PATENT_BASED',
] as const;
export type MoyskladTaxSystem = (typeof MOYSKLAD_TAX_SYSTEMS)[number];

/** ЕНВД (PRESUMPTIVE_TAX_SYSTEM) was abolished in 2021 and has no FFD 1.2 code: it maps to nothing. */
const TAXATION_BY_CODE: Record<MoyskladTaxSystem, TaxationSystem | undefined> = {
  GENERAL_TAX_SYSTEM: 'osn',
  SIMPLIFIED_TAX_SYSTEM_INCOME: 'usnIncome',
  SIMPLIFIED_TAX_SYSTEM_INCOME_OUTCOME: 'usnIncomeOutcome',
  UNIFIED_AGRICULTURAL_TAX: 'esn',
  PRESUMPTIVE_TAX_SYSTEM: undefined,
  PATENT_BASED: 'patent',
};

export function isMoyskladTaxSystem(value: unknown): value is MoyskladTaxSystem {
  return typeof value === 'string' && (MOYSKLAD_TAX_SYSTEMS as readonly string[]).includes(value);
}

export function taxationSystemOf(code: MoyskladTaxSystem): TaxationSystem | undefined {
  return TAXATION_BY_CODE[code];
}

export function moyskladTaxSystemOf(system: TaxationSystem): MoyskladTaxSystem {
  const found = MOYSKLAD_TAX_SYSTEMS.find((code) => TAXATION_BY_CODE[code] === system);
  return found ?? 'GENERAL_TAX_SYSTEM';
}

// --- answer shapes ----------------------------------------------------------------------------------------

const shortText = (max: number) => z.string().max(max);

/** An object meta as posap returns it. Kept whole (as plain JSON) when it must be echoed back. */
export const metaSchema = z.looseObject({
  href: shortText(2048),
  type: shortText(64).optional(),
  id: shortText(64).optional(),
  idType: shortText(16).optional(),
  mediaType: shortText(64).optional(),
});
export type WireMeta = z.infer<typeof metaSchema>;

/** A meta object as plain JSON (for Bill.sourceData and outbox payloads), unknown keys kept, numbers exact. */
export function plainMeta(meta: WireMeta): Record<string, string | number | boolean | null> {
  const plain = losslessToPlain(meta) as Record<string, unknown>;
  const result: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(plain)) {
    if (
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean' ||
      value === null
    ) {
      result[key] = value;
    }
  }
  return result;
}

const flag = z.boolean();

/** One row of `GET /admin/retailstore`, and `GET /settings/retailstore/` (B.5.1), the fields we read. */
export const retailStoreSchema = z.looseObject({
  meta: metaSchema.optional(),
  id: z.string().regex(UUID_PATTERN, 'expected a UUID'),
  name: shortText(512),
  authTokenAttached: flag.optional(),
  fiscalType: shortText(32).optional(),
  defaultTaxSystem: shortText(64).optional(),
  orderTaxSystem: shortText(64).optional(),
  ofdEnabled: flag.optional(),
  /** Which of a receipt's two contacts the electronic receipt goes to: phone (true) or e-mail (false). */
  isPhonePriority: flag.optional().catch(undefined),
  organization: z
    .looseObject({
      id: z.string().regex(UUID_PATTERN, 'expected a UUID').optional(),
      meta: metaSchema.optional(),
      name: shortText(512).optional(),
    })
    .optional(),
  cashiers: z
    .looseObject({
      rows: z
        .array(
          // The names only serve the receipt's cashier: an odd value is dropped, never fatal.
          z.looseObject({
            meta: metaSchema.optional().catch(undefined),
            uid: shortText(256).optional(),
            lastName: shortText(256).optional().catch(undefined),
            firstName: shortText(256).optional().catch(undefined),
            middleName: shortText(256).optional().catch(undefined),
            inn: shortText(32).optional().catch(undefined),
          }),
        )
        .max(1000),
    })
    .optional(),
});
export type WireRetailStore = z.infer<typeof retailStoreSchema>;

export const retailStoreListSchema = z.looseObject({ rows: z.array(retailStoreSchema).max(1000) });

export const attachAnswerSchema = z.looseObject({
  token: z.string().regex(/^[0-9A-Za-z]{16,256}$/, 'expected a hexadecimal token'),
  uid: shortText(256).min(1),
});

/** A JSON number or a numeric string from a LosslessNumber-parsed body, as decimal text. */
export const wireDecimal = z.unknown().transform((value, ctx): string => {
  if (isLosslessNumber(value)) return value.toString();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  ctx.addIssue({ code: 'custom', message: `expected a number, got ${describe(value)}` });
  return z.NEVER;
});

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string "${value.slice(0, 40)}"`;
  return typeof value;
}

export const assortmentSchema = z.looseObject({
  meta: metaSchema,
  name: shortText(1024).optional(),
  code: shortText(256).optional(),
  uom: z.union([shortText(64), z.looseObject({ name: shortText(64).optional() })]).optional(),
  paymentItemType: shortText(64).optional(),
  soldByWeight: flag.optional(),
  /** Честный ЗНАК product group (`SHOES`, `TOBACCO`, `PERFUMERY`…); `NOT_TRACKED` or absent: not marked. */
  trackingType: shortText(64).optional(),
});

/** A document position (customer order, retail demand, polled operation). */
export const positionSchema = z.looseObject({
  assortment: assortmentSchema,
  quantity: wireDecimal,
  price: wireDecimal,
  discount: wireDecimal.optional(),
  vat: wireDecimal.optional(),
  vatEnabled: flag.optional(),
  taxSystem: shortText(64).optional(),
  /** Marking codes of the position's items, one per piece (`cis`: the code as scanned). */
  marks: z
    .array(z.looseObject({ cis: shortText(400) }))
    .max(1000)
    .optional(),
});
export type WirePosition = z.infer<typeof positionSchema>;

export const customerOrderSchema = z.looseObject({
  meta: metaSchema,
  id: z.string().regex(UUID_PATTERN, 'expected a UUID'),
  name: shortText(256),
  moment: shortText(32).optional(),
  vatEnabled: flag.optional(),
  vatIncluded: flag.optional(),
  taxSystem: shortText(64).optional(),
  state: z.looseObject({ name: shortText(256).optional(), type: shortText(64).optional() }).optional(),
  /** The buyer; absent for the default retail buyer. Its `name` is what `GET /entity/counterparty` searches. */
  agent: z.looseObject({ meta: metaSchema, name: shortText(1024).optional().catch(undefined) }).optional(),
  positions: z.array(positionSchema).max(1000),
  paidInCash: wireDecimal.optional(),
  paidNoCash: wireDecimal.optional(),
  paidByQr: wireDecimal.optional(),
  shippedSum: wireDecimal.optional(),
  prepayments: z.array(z.unknown()).max(1000).optional(),
});
export type WireCustomerOrder = z.infer<typeof customerOrderSchema>;

/** Rows are checked one by one (a bad order must not hide the good ones). */
export const customerOrderListSchema = z.looseObject({
  rows: z.array(z.unknown()).max(1000),
  meta: z.looseObject({ nextHref: shortText(2048).optional() }).optional(),
});

/** `GET /entity/counterparty`: rows are read one by one; only the buyer's own row must be well formed. */
export const counterpartyListSchema = z.looseObject({ rows: z.array(z.unknown()).max(1000) });

/**
 * The fields of a counterparty (B.5.11) the buyer's contact comes from: `email` ("адрес электронной
 * почты") and `phone` ("номер городского телефона"), free text typed in MoySklad.
 */
export const counterpartySchema = z.looseObject({
  meta: metaSchema.optional().catch(undefined),
  id: shortText(64).optional(),
  email: shortText(256).optional(),
  phone: shortText(256).optional(),
});
export type WireCounterparty = z.infer<typeof counterpartySchema>;

/**
 * A polled master operation: "shaped like GET entity/{type}/{id}" (undocumented). We read what a sale in
 * posap carries (B.5.3): meta with the minion's syncId, name, moment, positions, the payment split.
 */
export const masterOperationSchema = z.looseObject({
  meta: metaSchema,
  id: shortText(64).optional(),
  name: shortText(256).optional(),
  moment: shortText(32).optional(),
  positions: z.array(positionSchema).min(1).max(1000),
  cashSum: wireDecimal.optional(),
  noCashSum: wireDecimal.optional(),
  qrSum: wireDecimal.optional(),
  prepaymentCash: wireDecimal.optional(),
  prepaymentNoCash: wireDecimal.optional(),
  prepaymentQrSum: wireDecimal.optional(),
  vatEnabled: flag.optional(),
  vatIncluded: flag.optional(),
  taxSystem: shortText(64).optional(),
  /** The employee who rang the sale up (B.5.5: `cashier{meta}`); an odd value is dropped, never fatal. */
  cashier: z.looseObject({ meta: metaSchema }).optional().catch(undefined),
  /**
   * The customer order a prepayment is taken for (required on a prepayment), or a sale settles: the key of
   * the order's ledger of advances (docs/moysklad.md, "Prepayments").
   */
  customerOrder: z.looseObject({ meta: metaSchema }).optional().catch(undefined),
  /**
   * The receipt the minion asks for: its `phone` and `email` are where the electronic receipt goes
   * (docs/protocol/moysklad-posap.md §4, "The buyer's contact"), and `online`, "the electronic receipt
   * flag": an explicit false says no e-receipt was asked for. An odd `online` counts as not said.
   */
  cheque: z
    .looseObject({
      phone: shortText(256).optional(),
      email: shortText(256).optional(),
      online: flag.optional().catch(undefined),
    })
    .optional(),
  /** The same three, as the reference's quick-start example of a retail demand names them. */
  chequePhone: shortText(256).optional(),
  chequeEmail: shortText(256).optional(),
  electronicCheque: flag.optional().catch(undefined),
});
export type WireMasterOperation = z.infer<typeof masterOperationSchema>;

/** The `{"errors":[…]}` body, tolerant: anything unreadable in an item is dropped, not fatal. */
export const errorBodySchema = z.looseObject({
  errors: z
    .array(
      z.looseObject({
        error: z.string().optional().catch(undefined),
        code: wireDecimal.optional().catch(undefined),
        parameter: z.string().optional().catch(undefined),
        moreInfo: z.string().optional().catch(undefined),
      }),
    )
    .max(100),
});
