import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MockMoysklad, startMockMoysklad } from './mockServer.js';

/** The mock itself: it must refuse what posap refuses, or the connector tests prove nothing. */

let mock: MockMoysklad;
let auth: Record<string, string>;

async function start(options: Parameters<typeof startMockMoysklad>[0] = {}) {
  await mock?.close();
  mock = await startMockMoysklad(options);
  const { token, uid } = mock.issueToken();
  auth = { 'Lognex-Pos-Auth-Token': token, 'Lognex-Pos-Auth-Cashier-Uid': uid };
}

beforeEach(async () => {
  await start();
});

afterEach(async () => {
  await mock.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${mock.url}${path}`, {
    method,
    headers: {
      Accept: 'application/json;charset=utf-8',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...auth,
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text
    ? (JSON.parse(text) as { errors?: Array<{ code: number; parameter?: string }> })
    : undefined;
  return { status: response.status, headers: response.headers, json, code: json?.errors?.[0]?.code };
}

const shiftHref = (id: string = randomUUID()) => ({
  meta: { href: `${mock.url}/entity/retailshift/syncid/${id}` },
});

async function openShift(id: string = randomUUID()) {
  const answer = await call('PUT', '/rpc/openshift/', {
    retailShift: shiftHref(id),
    name: '1',
    openmoment: '2026-11-22 10:00:00',
  });
  expect(answer.status).toBe(204);
  return id;
}

function demand(shiftId: string, extra: Record<string, unknown> = {}) {
  return {
    meta: { href: `${mock.url}/entity/retaildemand/syncid/${randomUUID()}` },
    retailShift: shiftHref(shiftId),
    name: '1',
    moment: '2026-11-22 10:00:00',
    positions: [
      {
        assortment: { meta: { href: `${mock.url}/entity/product/${randomUUID()}` } },
        quantity: 2,
        price: 1_000,
        vat: 20,
        vatEnabled: true,
      },
    ],
    ...extra,
  };
}

describe('mock posap: authentication and headers', () => {
  it('wants Basic auth on /admin and the token headers (without Authorization) elsewhere', async () => {
    expect((await call('GET', '/admin/retailstore')).code).toBe(1056);
    const basic = `Basic ${Buffer.from(`${mock.admin.login}:${mock.admin.password}`).toString('base64')}`;
    expect((await call('GET', '/admin/retailstore', undefined, { Authorization: basic })).status).toBe(200);
    expect((await call('GET', '/settings/retailstore/', undefined, { Authorization: basic })).code).toBe(
      1056,
    );
    mock.revokeTokens();
    expect(await call('GET', '/settings/retailstore/')).toMatchObject({ status: 401, code: 12017 });
  });

  it('takes only the documented Accept and a JSON Content-Type', async () => {
    expect((await call('GET', '/settings/retailstore/', undefined, { Accept: 'application/xml' })).code).toBe(
      1062,
    );
    const text = await call('PUT', '/rpc/openshift/', '{}', { 'Content-Type': 'text/plain' });
    expect(text.code).toBe(2001);
    expect((await call('PUT', '/rpc/openshift/', '{not json')).code).toBe(2001);
  });
});

describe('mock posap: documented validations', () => {
  it('shift open: 12006 without retailShift, 1057 without /syncid/, 3006 on the same syncId', async () => {
    expect(
      (await call('PUT', '/rpc/openshift/', { name: '1', openmoment: '2026-11-22 10:00:00' })).code,
    ).toBe(12006);
    const noSync = {
      retailShift: { meta: { href: `${mock.url}/entity/retailshift/${randomUUID()}` } },
      name: '1',
      openmoment: '2026-11-22 10:00:00',
    };
    expect((await call('PUT', '/rpc/openshift/', noSync)).code).toBe(1057);
    const bad = await call('PUT', '/rpc/openshift/', {
      retailShift: shiftHref(),
      name: '1',
      openmoment: '22.11.2026',
    });
    expect(bad.code).toBe(2025);
    const id = await openShift();
    const again = await call('PUT', '/rpc/openshift/', {
      retailShift: shiftHref(id),
      name: '1',
      openmoment: '2026-11-22 10:00:00',
    });
    expect(again.json?.errors?.[0]).toMatchObject({ code: 3006, parameter: 'syncId' });
  });

  it('sale: 12006 without a shift, 12012 for an unknown one, 1057 without a syncId', async () => {
    const shift = await openShift();
    const { retailShift: _, ...withoutShift } = demand(shift);
    expect((await call('POST', '/entity/retaildemand', withoutShift)).code).toBe(12006);
    expect((await call('POST', '/entity/retaildemand', demand(randomUUID()))).code).toBe(12012);
    const noSync = demand(shift, { meta: { href: `${mock.url}/entity/retaildemand/${randomUUID()}` } });
    expect((await call('POST', '/entity/retaildemand', noSync)).code).toBe(1057);
    const closing = await call('PUT', '/rpc/closeshift/', {
      retailShift: shiftHref(randomUUID()),
      closemoment: '2026-11-22 20:00:00',
    });
    expect(closing.code).toBe(12012);
  });

  it('sale: 18000 when the payments miss the positions by more than 10 kopecks, accepted within 10', async () => {
    const shift = await openShift();
    expect((await call('POST', '/entity/retaildemand', demand(shift, { cashSum: 1_989 }))).code).toBe(18000);
    expect((await call('POST', '/entity/retaildemand', demand(shift, { cashSum: 1_990 }))).status).toBe(201);
    expect((await call('POST', '/entity/retaildemand', demand(shift, { noCashSum: 2_000 }))).status).toBe(
      201,
    );
    expect((await call('POST', '/entity/retaildemand', demand(shift, { cashSum: 20.5 }))).code).toBe(2016);
    const body = demand(shift, { cashSum: 2_000 });
    expect((await call('POST', '/entity/retaildemand', body)).status).toBe(201);
    expect((await call('POST', '/entity/retaildemand', body)).code).toBe(3006);
    expect(mock.demands).toHaveLength(3);
    expect(mock.duplicates).toHaveLength(1);
  });
});

describe('mock posap: limits', () => {
  beforeEach(async () => {
    await start({ rateLimit: { requests: 5, windowMs: 400, maxParallel: 2 } });
  });

  it('answers 429 with X-Lognex-Retry-After past the per-user rate', async () => {
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await call('GET', '/settings/retailstore/'));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers[4]!.headers.get('x-ratelimit-remaining')).toBe('0');
    const limited = answers[5]!;
    expect(limited).toMatchObject({ status: 429, code: 1049 });
    expect(Number(limited.headers.get('x-lognex-retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-limit')).toBe('5');
    expect(limited.headers.get('x-lognex-retry-timeinterval')).toBe('400');
    expect(mock.counters.count429).toBe(1);
    expect(mock.counters.maxInWindow).toBe(5);
  });

  it('answers 1073 past the parallel limit', async () => {
    mock.latencyMs = 50;
    const answers = await Promise.all([1, 2, 3].map(() => call('GET', '/settings/retailstore/')));
    expect(answers.map((a) => a.code).filter((code) => code === 1073)).toHaveLength(1);
  });
});
