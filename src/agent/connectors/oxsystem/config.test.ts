import { describe, expect, it } from 'vitest';
import { OX_DEFAULT_ROUTES, oxAccountSchema } from './config.js';

const minimal = {
  id: 'main',
  subdomain: 'myshop',
  baseUrl: 'https://{subdomain}.example.uz',
  username: 'agent',
  password: 'secret',
  cashdesk: 233,
};

describe('oxAccountSchema', () => {
  it('fills the documented defaults', () => {
    const config = oxAccountSchema.parse(minimal);
    expect(config.routes).toEqual(OX_DEFAULT_ROUTES);
    expect(config).toMatchObject({
      policy: ['finished'],
      openSettleSeconds: 60,
      startFrom: 'now',
      timeZone: 'Asia/Tashkent',
      timeoutMs: 15_000,
      retries: 2,
      maxResponseBytes: 4 * 1024 * 1024,
      token: { refreshMarginSeconds: 3600, fallbackLifetimeSeconds: 3600 },
      poll: { enabled: true, intervalMs: 15_000, maxPages: 50 },
      payments: { default: 'card', overrides: {} },
      vat: { lookupVariations: false },
      listQuery: { cashdesk: 'cashdesk[]', updatedTimeMin: 'updatedTime[min]', type: 'type[]', page: 'page' },
    });
  });

  it('checks route templates: leading slash, required and unknown placeholders', () => {
    const routes = (r: Record<string, string>) => oxAccountSchema.safeParse({ ...minimal, routes: r });
    expect(routes({ sell: '/v2/sell/{sell}', commit: '/v2/sell/{sell}/close' }).success).toBe(true);
    expect(routes({ sell: 'v2/sell/{sell}' }).error?.issues[0]?.message).toContain('must start with "/"');
    expect(routes({ payment: '/v2/pay' }).error?.issues[0]?.message).toBe('must contain {sell}');
    expect(routes({ commit: '/v2/{sellId}/commit' }).error?.issues.map((i) => i.message)).toContain(
      'unknown placeholder {sellId} (allowed: {sell})',
    );
    expect(routes({ sellList: '/v2/sells?x=1' }).success).toBe(false);
  });

  it('rejects what cannot work', () => {
    const bad = (patch: Record<string, unknown>) =>
      oxAccountSchema.safeParse({ ...minimal, ...patch }).success;
    expect(bad({ baseUrl: 'ftp://x' })).toBe(false);
    expect(bad({ baseUrl: 'https://user:pw@{subdomain}.example.uz' })).toBe(false);
    expect(bad({ policy: [] })).toBe(false);
    expect(bad({ policy: ['open', 'open'] })).toBe(false);
    expect(bad({ startFrom: 'yesterday' })).toBe(false);
    expect(bad({ startFrom: '2025-06-01 00:00:00' })).toBe(true);
    expect(bad({ payments: { overrides: { cash: 'cash' } } })).toBe(false);
    expect(bad({ payments: { overrides: { '114': 'card', '7': 'prepaid' } } })).toBe(true);
    expect(bad({ timeZone: 'Mars/Olympus' })).toBe(false);
  });
});

describe('OX_DEFAULT_ROUTES', () => {
  // The vendor's published page and public clients log in and list goods at the host's root
  // (docs/protocol/oxsystem.md §2); the guessed /api/v1 prefix of earlier defaults appears nowhere.
  it('uses the published login and goods paths', () => {
    expect(OX_DEFAULT_ROUTES.login).toBe('/security/auth_check');
    expect(OX_DEFAULT_ROUTES.variation).toBe('/variations/{variation}');
  });

  it('puts every route at the host root, as the published ones are', () => {
    for (const template of Object.values(OX_DEFAULT_ROUTES)) expect(template).not.toMatch(/^\/api\//);
  });
});
