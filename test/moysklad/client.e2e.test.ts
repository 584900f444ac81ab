import { afterEach, describe, expect, it } from 'vitest';
import { MoyskladClient, type MoyskladClientOptions } from '../../src/agent/connectors/moysklad/client.js';
import {
  MoyskladApiError,
  MoyskladAuthError,
  MoyskladDuplicateError,
  MoyskladMalformedResponseError,
  MoyskladRateLimitError,
  MoyskladResponseTooLargeError,
  MoyskladShiftUnknownError,
  MoyskladSumMismatchError,
  MoyskladTimeoutError,
  MoyskladUnavailableError,
} from '../../src/agent/connectors/moysklad/errors.js';
import { RateLimiter } from '../../src/agent/connectors/moysklad/rateLimiter.js';
import { type MockMoysklad, type MockOptions, startMockMoysklad } from './mockServer.js';

let mock: MockMoysklad | undefined;

afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

async function setup(
  mockOptions: MockOptions = {},
  clientOptions: Partial<MoyskladClientOptions> = {},
  limiter = new RateLimiter(),
) {
  mock = await startMockMoysklad(mockOptions);
  const { token, uid } = mock.issueToken();
  const client = new MoyskladClient({
    account: 'shop',
    baseUrl: mock.url,
    auth: () => ({ kind: 'token', token, cashierUid: uid }),
    limiter,
    timeoutMs: 1_000,
    retries: 2,
    retryDelayMs: 5,
    maxRetryDelayMs: 20,
    maxRateLimitWaits: 5,
    maxResponseBytes: 1024 * 1024,
    ...clientOptions,
  });
  return { mock, client, limiter };
}

const openShiftBody = (syncId: string, base: string) =>
  JSON.stringify({
    retailShift: { meta: { href: `${base}/entity/retailshift/syncid/${syncId}` } },
    name: '1',
    openmoment: '2026-11-22 10:00:00',
  });

describe('rate limiting against the mock', () => {
  it('keeps at most 4 requests in flight although 24 are asked for at once', async () => {
    const { client, limiter } = await setup({ latencyMs: 25 });
    const answers = await Promise.all(Array.from({ length: 24 }, () => client.settings()));
    expect(answers).toHaveLength(24);
    expect(mock!.counters.maxInFlight).toBeLessThanOrEqual(4);
    expect(mock!.counters.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(limiter.stats.maxInFlightSeen).toBe(4);
    expect(mock!.counters.count429).toBe(0);
  });

  it('keeps every window at or under the limit with zero 429s (limits scaled down: 20 per 250 ms)', async () => {
    const rate = { requests: 20, windowMs: 250 };
    const { client } = await setup(
      { rateLimit: { ...rate, maxParallel: 5 } },
      {},
      new RateLimiter({ ...rate, burst: 5, maxInFlight: 4, marginMs: 5 }),
    );
    await Promise.all(Array.from({ length: 70 }, () => client.settings()));
    expect(mock!.counters.requests).toBe(70);
    expect(mock!.counters.maxInWindow).toBeLessThanOrEqual(20);
    expect(mock!.counters.count429).toBe(0);
  });

  it('waits out a 429 as X-Lognex-Retry-After says and retries the same request', async () => {
    const { client, limiter } = await setup();
    mock!.inject({ kind: 'rateLimit', retryAfterMs: 60, path: /openshift/ });
    await client.send(
      'PUT',
      'rpc/openshift/',
      openShiftBody('11111111-2222-4333-8444-555555555555', mock!.url),
    );
    expect(mock!.counters.count429).toBe(1);
    expect(mock!.shifts.size).toBe(1);
    expect(client.stats.rateLimited).toBe(1);
    expect(limiter.stats.started).toBe(2);
  });

  it('falls back to X-Lognex-Reset, then to backoff, and treats 1073 like 429', async () => {
    const { client } = await setup();
    mock!.inject({ kind: 'rateLimit', resetMs: 30, code: 1049 });
    mock!.inject({ kind: 'rateLimit', code: 1073 });
    const store = await client.settings();
    expect(store.id).toBe(mock!.store.id);
    expect(client.stats.rateLimited).toBe(2);
  });

  it('gives up with a typed error after the allowed number of waits', async () => {
    const { client } = await setup({}, { maxRateLimitWaits: 2 });
    mock!.inject({ kind: 'rateLimit', retryAfterMs: 5, times: 5 });
    const error = await client.settings().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MoyskladRateLimitError);
    expect(error).toMatchObject({ code: 'MOYSKLAD_RATE_LIMITED', retryAfterMs: 5 });
  });
});

describe('typed errors from the errors[] body', () => {
  it.each([
    [{ kind: 'apiError' as const, status: 401, code: 12017 }, MoyskladAuthError, 'MOYSKLAD_REPAIR_REQUIRED'],
    [
      { kind: 'apiError' as const, status: 400, code: 18000 },
      MoyskladSumMismatchError,
      'MOYSKLAD_SUM_MISMATCH',
    ],
    [
      { kind: 'apiError' as const, status: 412, code: 12012 },
      MoyskladShiftUnknownError,
      'MOYSKLAD_SHIFT_UNKNOWN',
    ],
    [
      { kind: 'apiError' as const, status: 400, code: 3006, parameter: 'syncId' },
      MoyskladDuplicateError,
      'MOYSKLAD_DUPLICATE',
    ],
    [{ kind: 'apiError' as const, status: 400, code: 2016 }, MoyskladApiError, 'MOYSKLAD_API_ERROR'],
  ])('%o → %o', async (fault, type, code) => {
    const { client } = await setup();
    mock!.inject(fault);
    const error = await client.settings().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ code, apiCode: fault.code });
  });

  it('names a duplicate syncId as such (a replay that already arrived)', async () => {
    const { client } = await setup();
    const body = openShiftBody('21111111-2222-4333-8444-555555555555', mock!.url);
    await client.send('PUT', 'rpc/openshift/', body);
    const error = await client.send('PUT', 'rpc/openshift/', body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MoyskladDuplicateError);
    expect((error as MoyskladDuplicateError).isSyncIdDuplicate).toBe(true);
  });

  it('refuses a revoked token with 12017', async () => {
    const { client } = await setup();
    mock!.revokeTokens();
    await expect(client.settings()).rejects.toMatchObject({
      code: 'MOYSKLAD_REPAIR_REQUIRED',
      status: 401,
      apiCode: 12017,
    });
  });

  it('refuses an href without /syncid/ with 1057', async () => {
    const { client } = await setup();
    const body = JSON.stringify({
      retailShift: { meta: { href: `${mock!.url}/entity/retailshift/31111111-2222-4333-8444-555555555555` } },
      name: '1',
      openmoment: '2026-11-22 10:00:00',
    });
    const error = await client.send('PUT', 'rpc/openshift/', body).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MOYSKLAD_API_ERROR', apiCode: 1057, status: 400 });
  });
});

describe('hostile and broken answers', () => {
  it('retries 5xx, an HTML 502 page and 1074 maintenance, then succeeds', async () => {
    const { client } = await setup();
    mock!.inject({ kind: 'status500' });
    mock!.inject({ kind: 'html502' });
    const store = await client.settings();
    expect(store.name).toBe(mock!.store.name);
    mock!.inject({ kind: 'maintenance1074', times: 2 });
    await client.settings();
    expect(client.stats.retries).toBe(4);
  });

  it('gives up on a server that stays down with MOYSKLAD_UNAVAILABLE (an HTML page has no codes)', async () => {
    const { client } = await setup();
    mock!.inject({ kind: 'html502', times: 3 });
    const error = await client.settings().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MoyskladUnavailableError);
    expect(error).toMatchObject({ status: 502, apiCode: 502 });
  });

  it('reports garbage JSON and an HTML page on a 200 as malformed answers', async () => {
    const { client } = await setup();
    mock!.inject({ kind: 'garbage' });
    await expect(client.customerOrders()).rejects.toBeInstanceOf(MoyskladMalformedResponseError);
    mock!.inject({ kind: 'html200' });
    await expect(client.customerOrders()).rejects.toThrow(/HTML page/);
  });

  it('refuses a huge body unread', async () => {
    const { client } = await setup({}, { maxResponseBytes: 64 * 1024 });
    mock!.inject({ kind: 'huge', bytes: 4 * 1024 * 1024 });
    await expect(client.customerOrders()).rejects.toBeInstanceOf(MoyskladResponseTooLargeError);
  });

  it('rejects answers of the wrong shape with the field named', async () => {
    const { client } = await setup();
    mock!.stores[0]!.name = undefined as unknown as string;
    await expect(client.settings()).rejects.toThrow(/name/);
  });

  it('times out a hanging server and retries', async () => {
    const { client } = await setup({}, { timeoutMs: 150 });
    mock!.inject({ kind: 'hang' });
    const store = await client.settings();
    expect(store.id).toBe(mock!.store.id);
    mock!.inject({ kind: 'hang', times: 3 });
    await expect(client.settings()).rejects.toBeInstanceOf(MoyskladTimeoutError);
  });

  it('reads an empty master queue (204) as nothing to do', async () => {
    const { client } = await setup();
    expect(await client.pollMaster(mock!.store.organizationId)).toBeUndefined();
  });
});
