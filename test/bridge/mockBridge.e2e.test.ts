import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  faultyBill,
  type MockBridge,
  type MockBridgeReceipt,
  SEED_BILLS,
  startMockBridge,
} from '../../src/emulators/bridge/index.js';

let bridge: MockBridge | undefined;

afterEach(async () => {
  await bridge?.close();
  bridge = undefined;
});

const get = async (path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${bridge!.url}${path}`, { headers });
  return { status: response.status, text: await response.text(), headers: response.headers };
};

describe('mock bridge', () => {
  it('LIST rows are the bill headers with the customer name trimmed, newest first', async () => {
    bridge = await startMockBridge({ bills: SEED_BILLS });
    const { status, text } = await get('/api/v2/list');
    expect(status).toBe(200);
    expect(text).toBe(
      '[{"id":346044,"date":"2025-12-14 17:19:17","summ":3442.71,"number":"1307622","customername":"Оксана Кокорина Викторовна"},' +
        '{"id":346042,"date":"2025-12-14 16:56:32","summ":15931,"number":"1307620","customername":"Оксана Кокорина Викторовна"}]',
    );
  });

  it('`date=today` uses the bridge zone; `date=YYYY-MM-DD` a given day', async () => {
    bridge = await startMockBridge({
      timeZone: 'Asia/Vladivostok',
      now: () => new Date('2025-12-14T20:00:00Z'), // already 15 Dec in Vladivostok
      bills: [...SEED_BILLS, faultyBill('totalMismatch', { id: 1, date: '2025-12-15 05:00:00' })],
    });
    expect(JSON.parse((await get('/api/v2/list?date=today')).text)).toMatchObject([{ id: 1 }]);
    expect(JSON.parse((await get('/api/v2/list?date=2025-12-14')).text)).toHaveLength(2);
  });

  it('synthetic bills are dated today and add up', async () => {
    bridge = await startMockBridge({
      timeZone: 'Europe/Moscow',
      now: () => new Date('2026-03-22T18:00:00Z'),
    });
    const today = JSON.parse((await get('/api/v2/list?date=today')).text) as Array<{ date: string }>;
    expect(today).toHaveLength(4);
    expect(today.every((row) => row.date.startsWith('2026-03-22 '))).toBe(true);
  });

  it('BILL by id, 404 for an unknown bill or route; addBill replaces, removeBill removes', async () => {
    bridge = await startMockBridge({ bills: SEED_BILLS });
    expect(JSON.parse((await get('/api/v2/bill/byid/346044')).text)).toEqual(SEED_BILLS[1]);
    expect((await get('/api/v2/bill/byid/1')).status).toBe(404);
    expect((await get('/api/v3/hello')).status).toBe(404);
    bridge.addBill({ ...SEED_BILLS[1]!, summ: 1 });
    expect(JSON.parse((await get('/api/v2/bill/byid/346044')).text)).toMatchObject({ summ: 1 });
    expect(bridge.removeBill(346044)).toBe(true);
    expect((await get('/api/v2/bill/byid/346044')).status).toBe(404);
  });

  it('records ReceiptCreated posts, answers them with an empty 200, and refuses anything else', async () => {
    bridge = await startMockBridge();
    const received = once(bridge.events, 'receipt') as Promise<[MockBridgeReceipt]>;
    const body = '{"id":"a","type":"ReceiptCreated","version":2}';
    const ok = await fetch(`${bridge.url}/api/v2/receipts`, { method: 'POST', body });
    expect([ok.status, await ok.text()]).toEqual([200, '']);
    expect((await received)[0].text).toBe(body);
    const bad = await fetch(`${bridge.url}/api/v2/receipts`, { method: 'POST', body: '{"type":"Other"}' });
    expect(bad.status).toBe(400);
    expect(bridge.receipts).toHaveLength(1);
  });

  it('basic auth: 401 with a challenge without or with wrong credentials', async () => {
    bridge = await startMockBridge({ auth: { type: 'basic', username: 'u', password: 'p' } });
    const denied = await get('/api/v2/hello');
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Basic realm="bridge"');
    const ok = await get('/api/v2/hello', {
      Authorization: `Basic ${Buffer.from('u:p').toString('base64')}`,
    });
    expect(JSON.parse(ok.text)).toEqual({ system: 'mock-crm', protocol: '0.1.0' });
  });

  it('faults apply to their endpoint and run out after `times`', async () => {
    bridge = await startMockBridge();
    bridge.setFault({ kind: 'http500', endpoint: 'list', times: 1 });
    expect((await get('/api/v2/hello')).status).toBe(200);
    expect((await get('/api/v2/list')).status).toBe(500);
    expect((await get('/api/v2/list')).status).toBe(200);
    bridge.setFault({ kind: 'hugeBody', endpoint: 'hello', bytes: 5 * 1024 * 1024, times: 1 });
    expect((await get('/api/v2/hello')).text.length).toBe(5 * 1024 * 1024);
  });

  it('down refuses connections; up listens on the same port again', async () => {
    bridge = await startMockBridge();
    await bridge.down();
    expect(bridge.listening).toBe(false);
    await expect(fetch(`${bridge.url}/api/v2/hello`)).rejects.toThrow();
    await bridge.up();
    expect((await get('/api/v2/hello')).status).toBe(200);
  });
});
