import { z } from 'zod';
import { isValidTimeZone } from '../../../lib/time.js';
import { urlSchema } from '../../../lib/urlSchema.js';
import { accountFields } from '../accountFields.js';
import { DEFAULT_BASE_URL, MOMENT_PATTERN } from './wire.js';

export const MOYSKLAD_MODES = ['master', 'customerOrders'] as const;
export type MoyskladMode = (typeof MOYSKLAD_MODES)[number];

export const MOYSKLAD_PAYMENT_TYPES = ['card', 'cash'] as const;
export type MoyskladPaymentType = (typeof MOYSKLAD_PAYMENT_TYPES)[number];

const baseUrl = urlSchema({ protocols: ['http', 'https'], credentialsGoIn: 'credentialsFile' });

const positiveMs = (min: number, max: number) => z.number().int().min(min).max(max);

/** posap: at most 100 requests per 5 s and 5 in parallel per user (docs/protocol/moysklad-posap.md §6). */
export const rateLimitSchema = z.strictObject({
  requests: z.number().int().min(1).max(10_000).default(100),
  windowMs: positiveMs(10, 600_000).default(5_000),
  burst: z.number().int().min(1).max(10_000).default(20),
  maxInFlight: z.number().int().min(1).max(5).default(4),
  marginMs: positiveMs(0, 10_000).default(10),
});

export type RateLimitConfig = z.output<typeof rateLimitSchema>;

/**
 * One MoySklad retail store ("точка продаж") served by this agent. The token comes from the credentials
 * file that `kkt-agent moysklad pair` writes, never from this config.
 */
export const moyskladAccountSchema = z.strictObject({
  /** The account's name in the agent (`moysklad:<id>`, the `account` of its bills). */
  id: accountFields.id,
  /** posap 1.0 root. */
  baseUrl: baseUrl.default(DEFAULT_BASE_URL),
  /** The file `moysklad pair --out` wrote (token and cashier uid, mode 0600). */
  credentialsFile: z.string().min(1).max(4096),
  /**
   * Where bills come from: `master` polls the cloud-cheque queue (the store's fiscalType must be MASTER);
   * `customerOrders` fiscalizes posted customer orders. Either way commands can fiscalize an order by id.
   */
  mode: z.enum(MOYSKLAD_MODES).default('master'),
  /** How often the queue or the order list is polled. */
  pollIntervalMs: positiveMs(50, 3_600_000).default(5_000),
  /** At most this many operations are taken from the master queue per poll. */
  maxOperationsPerPoll: z.number().int().min(1).max(1000).default(20),
  customerOrders: z
    .strictObject({
      /** Poll and fiscalize on its own; off: only on a command. */
      autoFiscalize: z.boolean().default(true),
      /** The payment a receipt records (the whole total); a command may say otherwise. */
      payment: z.enum(MOYSKLAD_PAYMENT_TYPES).default('card'),
      /** Only orders in these states (`state.name`), e.g. ["Оплачен"]; empty: every state. */
      states: z.array(z.string().min(1).max(256)).max(50).default([]),
      /**
       * Orders dated before this (`YYYY-MM-DD HH:mm:ss`, MoySklad time) are never auto-fiscalized. Set it when
       * the store moves from another POS, whose orders posap keeps returning.
       */
      notBefore: z.string().regex(MOMENT_PATTERN, 'expected YYYY-MM-DD HH:mm:ss').optional(),
    })
    .prefault({}),
  /** The register that prints this store's bills; shift events of other registers are ignored. Default: all. */
  device: z.string().min(1).max(64).optional(),
  /** The zone of `moment`, `openmoment`, `closemoment` and `cheque.time` (posap states none). */
  timeZone: z.string().refine(isValidTimeZone, 'unknown IANA time zone').default('Europe/Moscow'),
  /** Unit of `cheque.sum`: every other posap sum is kopecks; the doc's example (123.6) looks like rubles. */
  chequeSumUnit: z.enum(['kopecks', 'rubles']).default('kopecks'),
  timeoutMs: accountFields.timeoutMs(15_000),
  /** Network errors, timeouts, 5xx and 1074 are retried this many times in a row. */
  retries: accountFields.retries(3),
  retryDelayMs: accountFields.retryDelayMs(500),
  billRetry: accountFields.billRetry,
  maxRetryDelayMs: positiveMs(0, 600_000).default(30_000),
  /** 429s waited out per request before giving up on it for now. */
  maxRateLimitWaits: z.number().int().min(0).max(100).default(10),
  /** 100 customer orders × 1000 positions can be large. */
  maxResponseBytes: accountFields.maxResponseBytes({
    maxBytes: 256 * 1024 * 1024,
    defaultBytes: 16 * 1024 * 1024,
  }),
  rateLimit: rateLimitSchema.prefault({}),
  /** After the token is refused, deliveries wait this long before the next try (the file is re-read). */
  authRetryMs: positiveMs(10, 3_600_000).default(60_000),
  /** `POST /state`: register health for MoySklad's store page. */
  state: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Sent at least this often. */
      intervalMs: positiveMs(100, 86_400_000).default(300_000),
      /** Looked at this often, and sent when something changed. */
      checkIntervalMs: positiveMs(50, 3_600_000).default(30_000),
      /** `environment.device`; default: the host name. */
      deviceName: z.string().min(1).max(256).optional(),
    })
    .prefault({}),
  /** How long settings (organization id, tax systems) are trusted before they are read again. */
  settingsRefreshMs: positiveMs(1_000, 86_400_000).default(3_600_000),
});

export type MoyskladAccountConfig = z.output<typeof moyskladAccountSchema>;
export type MoyskladAccountInput = z.input<typeof moyskladAccountSchema>;
