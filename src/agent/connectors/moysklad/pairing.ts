import pino, { type Logger } from 'pino';
import { MoyskladClient } from './client.js';
import { type MoyskladCredentials, writeCredentials } from './credentials.js';
import { MoyskladAuthError, MoyskladPairingError } from './errors.js';
import { RateLimiter } from './rateLimiter.js';
import { DEFAULT_BASE_URL, normalizeBaseUrl, type WireRetailStore } from './wire.js';

/**
 * One-time pairing (docs/protocol/moysklad-posap.md §3): list the account's retail stores with the admin
 * login (Basic auth), pick one, `POST /admin/attach/{id}` for a store token and cashier uid, and keep them in
 * a 0600 file. Attaching revokes every earlier token of that store, so a store that already has a device
 * (`authTokenAttached`) is only attached with `force`.
 */

export interface PairOptions {
  login: string;
  password: string;
  /** Store name or id; may be left out when the account has exactly one store. */
  store?: string;
  /** Where the credentials go (written durably, mode 0600). */
  out: string;
  /** Attach even though another device holds the store's token (that device stops syncing). */
  force?: boolean;
  baseUrl?: string;
  timeoutMs?: number;
  logger?: Logger;
  now?: () => Date;
}

export interface StoreSummary {
  id: string;
  name: string;
  authTokenAttached: boolean;
}

export interface PairResult {
  path: string;
  store: StoreSummary;
  cashierUid: string;
  organizationId?: string;
  /** Another device's token was revoked by this attach. */
  revokedOtherDevice: boolean;
  warnings: string[];
}

function adminClient(options: Pick<PairOptions, 'login' | 'password' | 'baseUrl' | 'timeoutMs' | 'logger'>) {
  return new MoyskladClient({
    account: 'pairing',
    baseUrl: options.baseUrl ?? DEFAULT_BASE_URL,
    auth: () => ({ kind: 'basic', login: options.login, password: options.password }),
    limiter: new RateLimiter(),
    timeoutMs: options.timeoutMs ?? 15_000,
    retries: 2,
    retryDelayMs: 500,
    maxRetryDelayMs: 5_000,
    // 1048 (too many login attempts) is not retried: hammering a wrong password makes it worse.
    maxRateLimitWaits: 3,
    maxResponseBytes: 16 * 1024 * 1024,
    logger: options.logger ?? pino({ level: 'silent' }),
  });
}

const summary = (store: WireRetailStore): StoreSummary => ({
  id: store.id,
  name: store.name,
  authTokenAttached: store.authTokenAttached === true,
});

/** The account's retail stores (admin login). */
export async function listRetailStores(
  options: Pick<PairOptions, 'login' | 'password' | 'baseUrl' | 'timeoutMs' | 'logger'>,
): Promise<StoreSummary[]> {
  return (await adminClient(options).retailStores().catch(loginRejected)).map(summary);
}

function describeStores(stores: readonly WireRetailStore[]): string {
  return stores
    .map(
      (store) => `  ${store.id}  ${store.name}${store.authTokenAttached ? '  (a device is attached)' : ''}`,
    )
    .join('\n');
}

/** Picks the store by id (any case) or exact name; the only store when none is named. */
export function pickStore(stores: readonly WireRetailStore[], wanted: string | undefined): WireRetailStore {
  if (stores.length === 0) {
    throw new MoyskladPairingError(
      'MOYSKLAD_NO_STORES',
      'The MoySklad account has no retail stores ("точки продаж").',
    );
  }
  const listed = stores.map(summary);
  if (wanted === undefined) {
    if (stores.length === 1) return stores[0]!;
    throw new MoyskladPairingError(
      'MOYSKLAD_STORE_AMBIGUOUS',
      `The account has ${stores.length} retail stores; name one with --store:\n${describeStores(stores)}`,
      { stores: listed },
    );
  }
  const key = wanted.trim();
  const byId = stores.filter((store) => store.id.toLowerCase() === key.toLowerCase());
  const matches = byId.length > 0 ? byId : stores.filter((store) => store.name.trim() === key);
  if (matches.length === 1) return matches[0]!;
  throw new MoyskladPairingError(
    matches.length === 0 ? 'MOYSKLAD_STORE_NOT_FOUND' : 'MOYSKLAD_STORE_AMBIGUOUS',
    matches.length === 0
      ? `No retail store "${key}". The account has:\n${describeStores(stores)}`
      : `${matches.length} retail stores are named "${key}"; give the id instead:\n${describeStores(matches)}`,
    { stores: listed },
  );
}

/** A 401 on /admin means the login or password, not a store token. */
function loginRejected(error: unknown): never {
  if (error instanceof MoyskladAuthError) {
    throw new MoyskladPairingError(
      'MOYSKLAD_LOGIN_REJECTED',
      'MoySklad refused the login or password (or the user is blocked). Check them and try again.',
      { status: error.status, apiCode: error.apiCode },
    );
  }
  throw error;
}

export async function pairMoysklad(options: PairOptions): Promise<PairResult> {
  const baseUrl = normalizeBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
  const client = adminClient({ ...options, baseUrl });
  const stores = await client.retailStores().catch(loginRejected);
  const store = pickStore(stores, options.store);
  const warnings: string[] = [];
  const attached = store.authTokenAttached === true;
  if (attached) {
    const warning =
      `Retail store "${store.name}" already has a device attached (authTokenAttached). Attaching revokes ` +
      'its token: that device (another POS, or an earlier install of this agent) stops syncing with MoySklad.';
    if (!options.force) {
      throw new MoyskladPairingError(
        'MOYSKLAD_STORE_ALREADY_ATTACHED',
        `${warning} Re-run with --force if that is intended.`,
        {
          store: summary(store),
        },
      );
    }
    warnings.push(warning);
  }
  const { token, uid } = await client.attach(store.id).catch(loginRejected);
  const credentials: MoyskladCredentials = {
    version: 1,
    baseUrl,
    retailStore: { id: store.id, name: store.name },
    token,
    cashierUid: uid,
    attachedAt: (options.now?.() ?? new Date()).toISOString(),
  };
  if (store.organization?.id) credentials.organizationId = store.organization.id;
  await writeCredentials(options.out, credentials);
  const result: PairResult = {
    path: options.out,
    store: summary(store),
    cashierUid: uid,
    revokedOtherDevice: attached,
    warnings,
  };
  if (credentials.organizationId) result.organizationId = credentials.organizationId;
  return result;
}
