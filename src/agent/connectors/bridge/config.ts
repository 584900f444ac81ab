import { z } from 'zod';
import { urlSchema } from '../../../lib/urlSchema.js';
import { accountFields } from '../accountFields.js';

/** `01-` and 15 digits: an Evotor-style cloud user id (docs/protocol/bridge-api-v2.md §7). */
export const BRIDGE_USER_ID_PATTERN = /^01-\d{15}$/;
/** `YYYYMMDD-XXXX-40XX-80XX-XXXXXXXXXXXX`, upper-case hex: Evotor's store, device and employee ids. */
export const EVOTOR_ID_PATTERN = /^\d{8}-[0-9A-F]{4}-40[0-9A-F]{2}-80[0-9A-F]{2}-[0-9A-F]{12}$/;

const evotorId = z
  .string()
  .transform((text) => text.trim().toUpperCase())
  .pipe(z.string().regex(EVOTOR_ID_PATTERN, 'expected YYYYMMDD-XXXX-40XX-80XX-XXXXXXXXXXXX (hex)'));

const secret = z.string().min(1).max(4096);

export const bridgeAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  /** `Authorization: Bearer <token>`. */
  z.strictObject({ type: z.literal('bearer'), token: secret }),
  /** `Authorization: Basic base64(username:password)`. */
  z.strictObject({
    type: z.literal('basic'),
    username: z
      .string()
      .min(1)
      .max(256)
      .refine((name) => !name.includes(':'), 'must not contain ":"'),
    password: z.string().max(4096),
  }),
]);

export type BridgeAuth = z.infer<typeof bridgeAuthSchema>;

const baseUrl = urlSchema({ protocols: ['http', 'https'], credentialsGoIn: 'auth' });

export const BRIDGE_PAYMENT_TYPES = ['card', 'cash'] as const;
export type BridgePaymentType = (typeof BRIDGE_PAYMENT_TYPES)[number];

/**
 * What a bill's non-zero `prepayment` means (docs/bridge.md, "prepayment"): `refuse` it (nobody has seen
 * one), or `offsetElsewhere`: money the buyer paid in advance, whose advance receipt was printed outside
 * this agent; the receipt is a final settlement offsetting it as «prepaid» (1215).
 */
export const BRIDGE_PREPAYMENT_POLICIES = ['refuse', 'offsetElsewhere'] as const;
export type BridgePrepaymentPolicy = (typeof BRIDGE_PREPAYMENT_POLICIES)[number];

/**
 * One `/api/v2` bridge account. `ids` are what the shop's current POS app puts into its ReceiptCreated
 * events; copy them from it when migrating, since a bridge may recognise the shop by them. Those left out
 * are generated at first start in the same format and kept.
 */
export const bridgeAccountSchema = z.strictObject({
  /** The account's name in the agent (`bridge:<id>`, the `account` of its bills). */
  id: accountFields.id,
  /** The bridge root, e.g. `https://crm.example.ru/bridge`; `/api/v2/…` is appended (a trailing `/api/v2` is tolerated). */
  baseUrl,
  auth: bridgeAuthSchema.default({ type: 'none' }),
  timeoutMs: accountFields.timeoutMs(10_000),
  /** GETs only: how many times a network error, a timeout or a 5xx/408/429 is retried. */
  retries: accountFields.retries(3),
  retryDelayMs: accountFields.retryDelayMs(500),
  billRetry: accountFields.billRetry,
  maxResponseBytes: accountFields.maxResponseBytes({
    maxBytes: 64 * 1024 * 1024,
    defaultBytes: 2 * 1024 * 1024,
  }),
  autoFiscalize: z
    .strictObject({
      enabled: z.boolean().default(false),
      intervalMs: z.number().int().min(100).max(86_400_000).default(30_000),
      /** `none`: LIST without parameters (the bridge's recent window); `today`: `LIST?date=today`. */
      filter: z.enum(['none', 'today']).default('none'),
      /**
       * Bills dated before this (`YYYY-MM-DD` or `YYYY-MM-DD HH:mm:ss`, CRM-local like `BILL.date`) are
       * never auto-fiscalized. Set it when an account moves from another POS: LIST still returns the bills
       * that POS already printed, and the agent cannot tell them apart from unpaid ones.
       */
      notBefore: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}:\d{2})?$/, 'expected YYYY-MM-DD or YYYY-MM-DD HH:mm:ss')
        .optional(),
    })
    .prefault({}),
  /** The payment recorded when a command does not say (the whole total, one payment). */
  defaultPayment: z.enum(BRIDGE_PAYMENT_TYPES).default('card'),
  /** A bill's non-zero `prepayment`: refused unless the shop says what it is (`offsetElsewhere`). */
  prepayment: z.enum(BRIDGE_PREPAYMENT_POLICIES).default('refuse'),
  /** The register that prints this account's bills; default: the agent's default register. */
  device: z.string().min(1).max(64).optional(),
  ids: z
    .strictObject({
      userId: z.string().trim().regex(BRIDGE_USER_ID_PATTERN, 'expected "01-" and 15 digits').optional(),
      storeId: evotorId.optional(),
      deviceId: evotorId.optional(),
      employeeId: evotorId.optional(),
    })
    .default({}),
});

export type BridgeAccountConfig = z.output<typeof bridgeAccountSchema>;
export type BridgeAccountInput = z.input<typeof bridgeAccountSchema>;
