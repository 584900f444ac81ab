import { randomBytes, randomInt } from 'node:crypto';
import { z } from 'zod';
import type { ConnectorStore } from '../types.js';
import { BRIDGE_USER_ID_PATTERN, EVOTOR_ID_PATTERN } from './config.js';
import type { BridgeIdentity } from './event.js';

/**
 * The ids a bridge account's events carry (docs/protocol/bridge-api-v2.md §7). Configured values win; the
 * others are generated once, in Evotor's formats, and kept in the connector's store so that every later
 * event, and every restart, uses the same ones.
 */

export const IDENTITY_STORE_KEY = 'identity';

export const IDENTITY_KEYS = ['userId', 'storeId', 'deviceId', 'employeeId'] as const;
export type IdentityKey = (typeof IDENTITY_KEYS)[number];

const storedIdentitySchema = z.object({
  userId: z.string().regex(BRIDGE_USER_ID_PATTERN).optional().catch(undefined),
  storeId: z.string().regex(EVOTOR_ID_PATTERN).optional().catch(undefined),
  deviceId: z.string().regex(EVOTOR_ID_PATTERN).optional().catch(undefined),
  employeeId: z.string().regex(EVOTOR_ID_PATTERN).optional().catch(undefined),
});

export interface ResolvedIdentity {
  identity: BridgeIdentity;
  /** Which ids were generated just now (and stored). */
  generated: IdentityKey[];
}

export async function resolveBridgeIdentity(
  configured: Partial<BridgeIdentity>,
  store: ConnectorStore,
  now: Date = new Date(),
): Promise<ResolvedIdentity> {
  const parsed = storedIdentitySchema.safeParse(store.get<unknown>(IDENTITY_STORE_KEY) ?? {});
  const stored: Partial<BridgeIdentity> = parsed.success ? parsed.data : {};
  const generated: IdentityKey[] = [];
  const pick = (key: IdentityKey, generate: () => string): string => {
    const value = configured[key] ?? stored[key];
    if (value !== undefined) return value;
    generated.push(key);
    const fresh = generate();
    stored[key] = fresh;
    return fresh;
  };
  const identity: BridgeIdentity = {
    userId: pick('userId', generateUserId),
    storeId: pick('storeId', () => generateEvotorId(now)),
    deviceId: pick('deviceId', () => generateEvotorId(now)),
    employeeId: pick('employeeId', () => generateEvotorId(now)),
  };
  if (generated.length > 0) {
    const toStore: Record<string, string> = {};
    for (const key of IDENTITY_KEYS) {
      const value = stored[key];
      if (value !== undefined) toStore[key] = value;
    }
    await store.set(IDENTITY_STORE_KEY, toStore);
  }
  return { identity, generated };
}

/** `YYYYMMDD-XXXX-40XX-80XX-XXXXXXXXXXXX`: the creation date (UTC), then 20 random upper-case hex digits. */
export function generateEvotorId(now: Date = new Date()): string {
  const date = now.toISOString().slice(0, 10).replace(/-/g, '');
  const hex = randomBytes(10).toString('hex').toUpperCase();
  return `${date}-${hex.slice(0, 4)}-40${hex.slice(4, 6)}-80${hex.slice(6, 8)}-${hex.slice(8, 20)}`;
}

/** `01-` and 15 random digits. */
export function generateUserId(): string {
  let digits = '';
  for (let i = 0; i < 15; i++) digits += String(randomInt(10));
  return `01-${digits}`;
}
