import { afterEach, describe, expect, it } from 'vitest';
import { BridgeClient } from '../../src/agent/connectors/bridge/client.js';
import type { BridgeAuth } from '../../src/agent/connectors/bridge/config.js';
import {
  BridgeHttpStatusError,
  BridgeMalformedResponseError,
  BridgeProtocolError,
  BridgeResponseTooLargeError,
  BridgeTimeoutError,
  BridgeUnreachableError,
} from '../../src/agent/connectors/bridge/errors.js';
import {
  type MockBridge,
  type MockBridgeOptions,
  startMockBridge,
} from '../../src/emulators/bridge/index.js';
import { isLosslessNumber } from '../../src/lib/json.js';

let bridge: MockBridge | undefined;

afterEach(async () => {
  await bridge?.close();
  bridge = undefined;
});

async function setup(
  options: MockBridgeOptions = {},
  client: { auth?: BridgeAuth; timeoutMs?: number; retries?: number } = {},
) {
  bridge = await startMockBridge({ timeZone: 'Europe/Moscow', ...options });
  return new BridgeClient({
    account: '120',
    baseUrl: bridge.url,
    auth: client.auth ?? { type: 'none' },
    timeoutMs: client.timeoutMs ?? 2_000,
    retries: client.retries ?? 3,
    retryDelayMs: 5,
  });
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('BridgeClient against the mock bridge', () => {
  it('HELLO records the system, split when it is a list', async () => {
    const client = await setup({ system: 'system-a, system-b' });
    expect(await client.hello()).toEqual({
      system: 'system-a, system-b',
      systems: ['system-a', 'system-b'],
      protocol: '0.1.0',
    });
  });

  it('HELLO with another protocol version is a typed error', async () => {
    const client = await setup({ protocol: '0.2.0' });
    const error = await caught(client.hello());
    expect(error).toBeInstanceOf(BridgeProtocolError);
    expect(error).toMatchObject({ code: 'BRIDGE_PROTOCOL_UNSUPPORTED', protocol: '0.2.0' });
  });

  it('LIST: newest first; ?date=today and ?number=N filter', async () => {
    const client = await setup();
    const all = await client.list();
    expect(all.map((row) => row.id)).toEqual(['7004', '7003', '7002', '7001', '346044', '346042']);
    expect(all[4]).toEqual({ id: '346044', number: '1307622', date: '2025-12-14 17:19:17' });
    expect((await client.list({ kind: 'today' })).map((row) => row.id)).toEqual([
      '7004',
      '7003',
      '7002',
      '7001',
    ]);
    expect(await client.list({ kind: 'number', number: '1307620' })).toEqual([
      { id: '346042', number: '1307620', date: '2025-12-14 16:56:32' },
    ]);
    expect(await client.list({ kind: 'number', number: 'nope' })).toEqual([]);
    expect(bridge!.requests.map((r) => r.url)).toEqual([
      '/api/v2/list',
      '/api/v2/list?date=today',
      '/api/v2/list?number=1307620',
      '/api/v2/list?number=nope',
    ]);
  });

  it('BILL by id comes back parsed losslessly; an unknown id is BRIDGE_NOT_FOUND, not retried', async () => {
    const client = await setup();
    const bill = (await client.bill('346044')) as { summ: unknown };
    expect(isLosslessNumber(bill.summ)).toBe(true);
    expect(String(bill.summ)).toBe('3442.71');
    const error = await caught(client.bill('999'));
    expect(error).toMatchObject({ code: 'BRIDGE_NOT_FOUND', status: 404 });
    expect(bridge!.requests.filter((r) => r.endpoint === 'bill')).toHaveLength(2);
  });

  describe('auth', () => {
    const cases: Array<[string, BridgeAuth, BridgeAuth]> = [
      ['bearer', { type: 'bearer', token: 's3cret-token' }, { type: 'bearer', token: 'wrong' }],
      [
        'basic',
        { type: 'basic', username: 'pos', password: 'pa:ss wörd' },
        { type: 'basic', username: 'pos', password: 'wrong' },
      ],
    ];
    for (const [name, right, wrong] of cases) {
      it(`${name}: the right credentials pass; wrong ones are BRIDGE_AUTH_REJECTED (401), not retried`, async () => {
        const client = await setup({ auth: right }, { auth: right });
        expect((await client.hello()).protocol).toBe('0.1.0');
        const wrongClient = new BridgeClient({
          account: '120',
          baseUrl: bridge!.url,
          auth: wrong,
          timeoutMs: 2_000,
          retryDelayMs: 5,
        });
        const error = await caught(wrongClient.hello());
        expect(error).toBeInstanceOf(BridgeHttpStatusError);
        expect(error).toMatchObject({ code: 'BRIDGE_AUTH_REJECTED', status: 401 });
        expect(String((error as Error).message)).not.toContain('wrong');
        expect(bridge!.requests.map((r) => r.outcome)).toEqual([200, 401]);
      });
    }

    it('none: a bridge that wants credentials answers 401', async () => {
      const client = await setup({ auth: { type: 'bearer', token: 't' } });
      expect(await caught(client.list())).toMatchObject({ code: 'BRIDGE_AUTH_REJECTED', status: 401 });
    });
  });

  it('GET retries a 500 with backoff and then succeeds', async () => {
    const client = await setup({}, { retries: 3 });
    bridge!.setFault({ kind: 'http500', endpoint: 'list', times: 2 });
    expect(await client.list({ kind: 'number', number: '1307622' })).toHaveLength(1);
    expect(bridge!.requests.map((r) => r.outcome)).toEqual([500, 500, 200]);
  });

  it('GET gives up after its retries with the last status', async () => {
    const client = await setup({}, { retries: 1 });
    bridge!.setFault({ kind: 'http500', endpoint: 'hello' });
    expect(await caught(client.hello())).toMatchObject({ code: 'BRIDGE_HTTP_STATUS', status: 500 });
    expect(bridge!.requests).toHaveLength(2);
  });

  it('POST is tried once: its retries belong to the outbox', async () => {
    const client = await setup({}, { retries: 3 });
    bridge!.setFault({ kind: 'rejectReceipts', status: 503, retryAfterSeconds: 7 });
    const error = await caught(client.postReceipt('{"type":"ReceiptCreated","version":2}'));
    expect(error).toMatchObject({ status: 503, retryAfterMs: 7_000 });
    expect(bridge!.requests).toHaveLength(1);
    expect(bridge!.receipts).toHaveLength(0);
  });

  it('POST: a 2xx is success and the mock records the body verbatim', async () => {
    const client = await setup();
    const body = '{"id":"x","type":"ReceiptCreated","version":2,"data":{"totalAmount":3442.71}}';
    expect(await client.postReceipt(body)).toEqual({ status: 200, bodyBytes: 0 });
    expect(bridge!.receipts.map((r) => r.text)).toEqual([body]);
  });

  it('a hanging bridge is BRIDGE_TIMEOUT', async () => {
    const client = await setup({}, { timeoutMs: 150, retries: 1 });
    bridge!.setFault({ kind: 'hang', endpoint: 'hello' });
    const error = await caught(client.hello());
    expect(error).toBeInstanceOf(BridgeTimeoutError);
    expect(error).toMatchObject({ code: 'BRIDGE_TIMEOUT', endpoint: 'GET /api/v2/hello' });
    expect(bridge!.requests.map((r) => r.outcome)).toEqual(['hang', 'hang']);
  });

  it('a garbage body is BRIDGE_MALFORMED_RESPONSE naming the endpoint, not retried', async () => {
    const client = await setup();
    bridge!.setFault({ kind: 'garbage', endpoint: 'bill' });
    const error = await caught(client.bill('346042'));
    expect(error).toBeInstanceOf(BridgeMalformedResponseError);
    expect((error as Error).message).toContain('GET /api/v2/bill/byid/346042');
    expect(bridge!.requests).toHaveLength(1);
  });

  it('a LIST that is not an array is BRIDGE_MALFORMED_RESPONSE', async () => {
    const client = await setup();
    bridge!.setFault({ kind: 'hugeBody', endpoint: 'list', bytes: 1, declareLength: true });
    expect(await caught(client.list())).toMatchObject({ code: 'BRIDGE_MALFORMED_RESPONSE' });
  });

  for (const declareLength of [false, true]) {
    it(`a 5 MB body (${declareLength ? 'declared' : 'chunked'}) is BRIDGE_RESPONSE_TOO_LARGE, not a timeout`, async () => {
      const client = await setup({}, { timeoutMs: 10_000 });
      bridge!.setFault({ kind: 'hugeBody', endpoint: 'list', declareLength, times: 1 });
      const error = await caught(client.list());
      expect(error).toBeInstanceOf(BridgeResponseTooLargeError);
      expect(error).toMatchObject({ details: { limitBytes: 2 * 1024 * 1024, endpoint: 'GET /api/v2/list' } });
      expect(bridge!.requests).toHaveLength(1);
      // The connection is usable afterwards.
      expect(await client.list({ kind: 'today' })).toHaveLength(4);
    });
  }

  it('a bridge that is down is BRIDGE_UNREACHABLE; it works again once it is back', async () => {
    const client = await setup({}, { retries: 0 });
    await bridge!.down();
    const error = await caught(client.hello());
    expect(error).toBeInstanceOf(BridgeUnreachableError);
    expect(error).toMatchObject({ code: 'BRIDGE_UNREACHABLE', details: { reason: 'ECONNREFUSED' } });
    await bridge!.up();
    expect((await client.hello()).system).toBe('mock-crm');
  });
});
