import { z } from 'zod';

/**
 * How long an OX token is good for. The login answer says `lifetime` (seconds: 12 days in the doc) and the
 * JWT says `exp`; the doc's sample contradicts itself (exp − iat = 365 days), so the earlier one wins
 * (docs/protocol/oxsystem.md §2). The agent logs in again a margin before that, never waiting for a 401.
 */

const jwtPayloadSchema = z.object({ exp: z.number().finite().positive().optional() });

/** The `exp` claim of a JWT, in seconds since the epoch; undefined for an opaque or unreadable token. */
export function jwtExpirySeconds(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return jwtPayloadSchema.safeParse(payload).data?.exp;
  } catch {
    return undefined;
  }
}

export interface TokenTimesInput {
  obtainedAtMs: number;
  lifetimeSeconds: number | undefined;
  jwtExpSeconds: number | undefined;
  refreshMarginSeconds: number;
  fallbackLifetimeSeconds: number;
}

export interface TokenTimes {
  expiresAtMs: number;
  /** When to log in again: the margin before expiry, but never later than half-way through. */
  refreshAtMs: number;
  /** Which figure decided the expiry. */
  decidedBy: 'lifetime' | 'exp' | 'fallback';
  /** `exp` was ignored because it lies in the past by our clock (a skewed clock or a bogus claim). */
  expIgnored: boolean;
}

export function tokenTimes(input: TokenTimesInput): TokenTimes {
  const { obtainedAtMs } = input;
  const candidates: Array<{ at: number; by: TokenTimes['decidedBy'] }> = [];
  if (input.lifetimeSeconds !== undefined) {
    candidates.push({ at: obtainedAtMs + input.lifetimeSeconds * 1000, by: 'lifetime' });
  }
  let expIgnored = false;
  if (input.jwtExpSeconds !== undefined) {
    const at = input.jwtExpSeconds * 1000;
    // Trusting an exp already past would mean a login before every request; lifetime (or 401) rules then.
    if (at > obtainedAtMs) candidates.push({ at, by: 'exp' });
    else expIgnored = true;
  }
  if (candidates.length === 0) {
    candidates.push({ at: obtainedAtMs + input.fallbackLifetimeSeconds * 1000, by: 'fallback' });
  }
  const earliest = candidates.reduce((a, b) => (b.at < a.at ? b : a));
  const validityMs = earliest.at - obtainedAtMs;
  const marginMs = Math.min(input.refreshMarginSeconds * 1000, validityMs / 2);
  return {
    expiresAtMs: earliest.at,
    refreshAtMs: Math.floor(earliest.at - marginMs),
    decidedBy: earliest.by,
    expIgnored,
  };
}
