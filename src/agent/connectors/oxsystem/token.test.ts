import { describe, expect, it } from 'vitest';
import { jwtExpirySeconds, tokenTimes } from './token.js';

const jwt = (payload: unknown) =>
  [
    'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9',
    Buffer.from(JSON.stringify(payload)).toString('base64url'),
    'sig',
  ].join('.');

// The doc's sample token: iat 1561622452, exp 1593158452 (365 days later).
const DOC_TOKEN =
  'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJpYXQiOjE1NjE2MjI0NTIsImV4cCI6MTU5MzE1ODQ1Miwicm9sZXMiOltdLCJpZCI6MTE3MTUyfQ.nBcK';

const base = { refreshMarginSeconds: 3600, fallbackLifetimeSeconds: 3600 };

describe('token lifetime', () => {
  it("reads the JWT's exp, and nothing from an opaque token", () => {
    expect(jwtExpirySeconds(DOC_TOKEN)).toBe(1_593_158_452);
    expect(jwtExpirySeconds('3f2a9c')).toBeUndefined();
    expect(jwtExpirySeconds('a.!!!.c')).toBeUndefined();
    expect(jwtExpirySeconds(jwt({ exp: 'soon' }))).toBeUndefined();
  });

  it('trusts the earlier of lifetime and exp', () => {
    const obtainedAtMs = 1_561_622_452_000;
    const byLifetime = tokenTimes({
      ...base,
      obtainedAtMs,
      lifetimeSeconds: 1_036_800,
      jwtExpSeconds: 1_593_158_452,
    });
    expect(byLifetime).toMatchObject({ decidedBy: 'lifetime', expiresAtMs: obtainedAtMs + 1_036_800_000 });
    expect(byLifetime.refreshAtMs).toBe(byLifetime.expiresAtMs - 3_600_000);
    const byExp = tokenTimes({
      ...base,
      obtainedAtMs,
      lifetimeSeconds: 1_036_800,
      jwtExpSeconds: obtainedAtMs / 1000 + 600,
    });
    expect(byExp).toMatchObject({ decidedBy: 'exp', expiresAtMs: obtainedAtMs + 600_000 });
  });

  it('refreshes half-way through a token shorter than twice the margin', () => {
    const times = tokenTimes({ ...base, obtainedAtMs: 0, lifetimeSeconds: 600, jwtExpSeconds: undefined });
    expect(times.refreshAtMs).toBe(300_000);
  });

  it('ignores an exp already in the past, and falls back when nothing is known', () => {
    const stale = tokenTimes({
      ...base,
      obtainedAtMs: 2_000_000_000_000,
      lifetimeSeconds: 1_036_800,
      jwtExpSeconds: 1_593_158_452,
    });
    expect(stale).toMatchObject({ decidedBy: 'lifetime', expIgnored: true });
    const unknown = tokenTimes({
      ...base,
      obtainedAtMs: 0,
      lifetimeSeconds: undefined,
      jwtExpSeconds: undefined,
    });
    expect(unknown).toMatchObject({ decidedBy: 'fallback', expiresAtMs: 3_600_000, refreshAtMs: 1_800_000 });
  });
});
