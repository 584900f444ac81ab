import { z } from 'zod';
import { isValidTimeZone } from '../../../lib/time.js';
import { PAYMENT_TYPE_NAMES } from '../../domain/payment.js';
import { accountFields } from '../accountFields.js';
import { OX_DATETIME_PATTERN } from './time.js';

/**
 * One OX System account (docs/protocol/oxsystem.md): a company login and the cashdesk whose sells it
 * fiscalizes.
 *
 * The copy of the vendor's doc lost every endpoint path (only suffixes such as `{sell}/commit` survive),
 * so each route is a template here. The defaults are our guess and MUST be confirmed with the vendor
 * before going live (docs/oxsystem.md).
 */

/** What a route template may contain, per route. `{x}` is replaced by the URL-encoded id. */
export const OX_ROUTE_PLACEHOLDERS = {
  login: [],
  cashdesk: ['cashdesk'],
  sellList: [],
  sell: ['sell'],
  payment: ['sell'],
  commit: ['sell'],
  patch: ['sell'],
  variation: ['variation'],
} as const satisfies Record<string, readonly string[]>;

export type OxRouteName = keyof typeof OX_ROUTE_PLACEHOLDERS;

/**
 * The vendor's published login and goods paths sit at the host's root (docs/protocol/oxsystem.md §2); the
 * sell and cashdesk paths are UNCONFIRMED, read off the suffixes that survived in our copy of the doc.
 */
export const OX_DEFAULT_ROUTES: Record<OxRouteName, string> = {
  login: '/security/auth_check',
  cashdesk: '/cashdesks/{cashdesk}',
  sellList: '/sells',
  sell: '/sells/{sell}',
  payment: '/sells/{sell}/payment',
  commit: '/sells/{sell}/commit',
  patch: '/sells/{sell}/patch',
  variation: '/variations/{variation}',
};

/** Query parameter names of the sell list (PHP-style arrays in the doc's table). Also unconfirmed. */
export const OX_DEFAULT_LIST_QUERY = {
  cashdesk: 'cashdesk[]',
  updatedTimeMin: 'updatedTime[min]',
  updatedTimeMax: 'updatedTime[max]',
  type: 'type[]',
  page: 'page',
} as const;

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;

function routeTemplate(name: OxRouteName) {
  const required: readonly string[] = OX_ROUTE_PLACEHOLDERS[name];
  return z
    .string()
    .min(1)
    .max(512)
    .regex(/^\//, 'must start with "/" (it is appended to baseUrl)')
    .refine((text) => !/[?#]/.test(text), 'must not contain a query or a fragment')
    .superRefine((text, ctx) => {
      const found = [...text.matchAll(PLACEHOLDER)].map((match) => match[1]!);
      for (const placeholder of found) {
        if (!required.includes(placeholder)) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown placeholder {${placeholder}}${required.length ? ` (allowed: ${required.map((p) => `{${p}}`).join(', ')})` : ''}`,
          });
        }
      }
      for (const placeholder of required) {
        if (!found.includes(placeholder))
          ctx.addIssue({ code: 'custom', message: `must contain {${placeholder}}` });
      }
    })
    .default(OX_DEFAULT_ROUTES[name]);
}

const baseUrl = z
  .string()
  .min(1)
  .max(512)
  .refine((text) => {
    try {
      const url = new URL(text.replaceAll('{subdomain}', 'placeholder'));
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.search === '' && url.hash === '';
    } catch {
      return false;
    }
  }, 'expected an http(s) URL template such as "https://{subdomain}.example.uz" (no query)')
  .refine((text) => {
    const url = new URL(text.replaceAll('{subdomain}', 'placeholder'));
    return url.username === '' && url.password === '';
  }, 'put credentials in username/password, not in the URL');

const paymentType = z.enum(PAYMENT_TYPE_NAMES);

/** Which sells become bills (the list cannot filter by state: docs/protocol/oxsystem.md §3). */
export const OX_SELL_KINDS = ['open', 'postponed', 'finished'] as const;
export type OxSellKind = (typeof OX_SELL_KINDS)[number];

export const oxAccountSchema = z.strictObject({
  /** The account's name in the agent: the connector is `oxsystem:<id>`, its bills' `account` is `<id>`. */
  id: accountFields.id,
  /** The company subdomain, sent as `_subdomain` at login and substituted for `{subdomain}` in baseUrl. */
  subdomain: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9.-]+$/, 'letters, digits, "." or "-"'),
  /** The server root, a template: e.g. `https://{subdomain}.example.uz`. Confirm the host with the vendor. */
  baseUrl,
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(4096),
  /** The cashdesk (кассовый терминал) id whose sells are fiscalized. */
  cashdesk: z.number().int().positive(),
  routes: z
    .strictObject({
      login: routeTemplate('login').default(OX_DEFAULT_ROUTES.login),
      cashdesk: routeTemplate('cashdesk').default(OX_DEFAULT_ROUTES.cashdesk),
      sellList: routeTemplate('sellList').default(OX_DEFAULT_ROUTES.sellList),
      sell: routeTemplate('sell').default(OX_DEFAULT_ROUTES.sell),
      payment: routeTemplate('payment').default(OX_DEFAULT_ROUTES.payment),
      commit: routeTemplate('commit').default(OX_DEFAULT_ROUTES.commit),
      patch: routeTemplate('patch').default(OX_DEFAULT_ROUTES.patch),
      variation: routeTemplate('variation').default(OX_DEFAULT_ROUTES.variation),
    })
    .prefault({}),
  listQuery: z
    .strictObject({
      cashdesk: z.string().min(1).default(OX_DEFAULT_LIST_QUERY.cashdesk),
      updatedTimeMin: z.string().min(1).default(OX_DEFAULT_LIST_QUERY.updatedTimeMin),
      updatedTimeMax: z.string().min(1).default(OX_DEFAULT_LIST_QUERY.updatedTimeMax),
      type: z.string().min(1).default(OX_DEFAULT_LIST_QUERY.type),
      page: z.string().min(1).default(OX_DEFAULT_LIST_QUERY.page),
    })
    .prefault({}),
  timeoutMs: accountFields.timeoutMs(15_000),
  /** GETs only: how many times a network error, a timeout or a 5xx/408/429 is retried. */
  retries: accountFields.retries(2),
  retryDelayMs: accountFields.retryDelayMs(500),
  billRetry: accountFields.billRetry,
  /** A sell list embeds a whole cashdesk per sell. */
  maxResponseBytes: accountFields.maxResponseBytes({
    maxBytes: 64 * 1024 * 1024,
    defaultBytes: 4 * 1024 * 1024,
  }),
  token: z
    .strictObject({
      /** Log in again this long before the token expires (at most half its validity). */
      refreshMarginSeconds: z
        .number()
        .int()
        .min(0)
        .max(86_400 * 30)
        .default(3600),
      /** Validity assumed when the login answer has neither `lifetime` nor a JWT `exp`. */
      fallbackLifetimeSeconds: z
        .number()
        .int()
        .min(60)
        .max(86_400 * 365)
        .default(3600),
    })
    .prefault({}),
  poll: z
    .strictObject({
      enabled: z.boolean().default(true),
      intervalMs: z.number().int().min(100).max(86_400_000).default(15_000),
      /**
       * Pages of the sell list read per poll at most (the page size is the server's). When more changed,
       * the next polls narrow the window with `updatedTime[max]` until one read gets to the end.
       */
      maxPages: z.number().int().min(1).max(1000).default(50),
    })
    .prefault({}),
  /**
   * Which sells are fiscalized. `finished`: sells closed in OX (`draft:false`, `finishedTime` set) whose note
   * carries no fiscal note yet; only the note is written back. `open`: carts (`draft:true`) with lines, idle
   * for `openSettleSeconds`; the agent adds the payment and commits. `postponed`: `isPostpone:true` sells,
   * paid and committed like open ones.
   */
  policy: z
    .array(z.enum(OX_SELL_KINDS))
    .min(1)
    .refine((kinds) => new Set(kinds).size === kinds.length, 'list each kind once')
    .default(['finished']),
  /** An open cart must be unchanged this long before it is fiscalized (the cashier may still be adding lines). */
  openSettleSeconds: z.number().int().min(0).max(86_400).default(60),
  /**
   * Where the first poll starts: `now` (sells updated from the first start on; older ones are never
   * fiscalized) or an OX time `YYYY-MM-DD HH:mm:ss`. Only read when no cursor is stored yet.
   */
  startFrom: z
    .union([z.literal('now'), z.string().regex(OX_DATETIME_PATTERN, 'expected "now" or YYYY-MM-DD HH:mm:ss')])
    .default('now'),
  /** The zone OX writes its times in (the company's user settings; docs/protocol/oxsystem.md §3). */
  timeZone: z.string().refine(isValidTimeZone, 'must be an IANA time zone').default('Asia/Tashkent'),
  payments: z
    .strictObject({
      /** The payment the agent records when it pays an open or postponed sell. */
      default: z.enum(['cash', 'card']).default('card'),
      /** Receipt payment type per OX payment-method id, over the method's `cash` flag (`{"114": "card"}`). */
      overrides: z.record(z.string().regex(/^\d+$/, 'a payment-method id'), paymentType).default({}),
      /** The OX payment method used for a cash payment; default: the first active method with `cash:true`. */
      cashMethodId: z.number().int().positive().optional(),
      /** The OX payment method used for a card payment; default: the first active non-cash, non-wallet one. */
      cardMethodId: z.number().int().positive().optional(),
    })
    .prefault({}),
  vat: z
    .strictObject({
      /**
       * Read `taxable`/`vatPercent` from the variation card when a sell line only names the variation's id
       * (one GET per variation per poll). Off: VAT is taken only from lines that embed the variation.
       */
      lookupVariations: z.boolean().default(false),
    })
    .prefault({}),
  /** The device that prints this account's bills; default: the agent's routing rules. */
  device: z.string().min(1).max(64).optional(),
});

export type OxAccountConfig = z.output<typeof oxAccountSchema>;
export type OxAccountInput = z.input<typeof oxAccountSchema>;
export type OxRoutes = OxAccountConfig['routes'];
export type OxListQuery = OxAccountConfig['listQuery'];
