import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_ERRORS } from '../../src/drivers/atol/protocol/deviceErrors.js';
import {
  AtolWebClient,
  type AtolWebKkt,
  DRIVER_CODE_BY_PROTOCOL_CODE,
  KktDriverError,
  PROTOCOL_CODE_BY_DRIVER_CODE,
} from '../../src/drivers/atol/web/index.js';
import { coffeeReceipt, startWeb, type WebHarness, webKkt } from './support.js';

/**
 * Driver-10 error codes become the agent's typed errors, with the protocol backend's stable codes where
 * the mapping in src/drivers/atol/web/driverErrors.ts gives a protocol error byte; the facade reports the register's refusals
 * with those driver codes.
 */

describe('driver error codes', () => {
  it.each([
    [44, 'KKT_NO_PAPER', 'printer', 0x67],
    [46, 'KKT_PRINTER_NOT_CONNECTED', 'printer', 0x68],
    [68, 'KKT_SHIFT_EXPIRED', 'state', 0x88],
    [80, 'KKT_NO_CASH', 'state', 0x98],
    [82, 'KKT_RECEIPT_OPEN', 'state', 0x9b],
    [121, 'KKT_FN_FULL', 'fn', 0xd8],
    [139, 'KKT_FN_UNSENT_DOCUMENTS', 'fn', 0xed],
    [141, 'KKT_FN_SHIFT_EXPIRED', 'state', 0xf0],
    [16, 'KKT_BAD_AMOUNT', 'input', 0x08],
  ])('driver code %i is %s (%s), like protocol error %i', (driverCode, code, kind, deviceCode) => {
    const error = new KktDriverError(driverCode, 'sell');
    expect(error).toMatchObject({ code, kind, deviceCode, driverCode, uncertain: false });
    expect(error.message).toContain(PROTOCOL_ERRORS.get(deviceCode)!.message);
    expect(error.message).toContain(`driver error ${driverCode} on sell`);
    expect(error.deviceText).toBe(PROTOCOL_ERRORS.get(deviceCode)!.ru);
  });

  it.each([
    [2, 'KKT_NO_CONNECTION', 'device', true],
    [241, 'KKT_CONNECTION_LOST', 'device', true],
    [177, 'KKT_CLOSE_RECEIPT_INTERRUPTED', 'unknown', true],
    [45, 'KKT_COVER_OPEN', 'printer', false],
    [73, 'KKT_SHIFT_CLOSED', 'state', false],
    [144, 'KKT_EXT_BAD_TAX', 'input', false],
    [999, 'KKT_DRIVER_ERROR', 'unknown', false],
  ])('driver code %i is %s (%s); uncertain: %s', (driverCode, code, kind, uncertain) => {
    expect(new KktDriverError(driverCode, 'sell')).toMatchObject({
      code,
      kind,
      uncertain,
      deviceCode: undefined,
    });
  });

  it("keeps the server's own description", () => {
    expect(new KktDriverError(44, 'sell', 'Нет бумаги (крышка)').deviceText).toBe('Нет бумаги (крышка)');
  });

  it('maps every pair of the driver → protocol mapping both ways, onto known protocol errors', () => {
    const researched: Array<[number, number]> = [
      [0x67, 44],
      [0x68, 46],
      [0x69, 47],
      [0x88, 68],
      [0x9a, 81],
      [0x9b, 82],
      [0x9c, 83],
      [0x98, 80],
      [0x71, 52],
      [0x72, 66],
      [0x8c, 71],
      [0xa8, 89],
      [0xd1, 114],
      [0xd4, 117],
      [0xd7, 120],
      [0xd8, 121],
      [0xeb, 137],
      [0xed, 139],
      [0xf0, 141],
      [0x7e, 60],
      [0x08, 16],
      [0x0a, 17],
    ];
    for (const [protocol, driver] of researched) {
      expect(DRIVER_CODE_BY_PROTOCOL_CODE.get(protocol)).toBe(driver);
      expect(PROTOCOL_CODE_BY_DRIVER_CODE.get(driver)).toBe(protocol);
    }
    for (const protocol of PROTOCOL_CODE_BY_DRIVER_CODE.values())
      expect(PROTOCOL_ERRORS.has(protocol)).toBe(true);
    expect(DRIVER_CODE_BY_PROTOCOL_CODE.size).toBe(PROTOCOL_CODE_BY_DRIVER_CODE.size);
  });
});

describe('the register refuses through the web server', () => {
  let h: WebHarness;
  let kkt: AtolWebKkt;

  beforeEach(async () => {
    h = await startWeb();
    kkt = webKkt(h.web);
    await kkt.openShift();
  });

  afterEach(async () => {
    await h.web.close();
    expect(h.warnings).toEqual([]);
  });

  const refusal = async (requestId: string) => {
    const error = await kkt.sell(coffeeReceipt(requestId), { requestId }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KktDriverError);
    return error as KktDriverError;
  };

  it('no paper: KKT_NO_PAPER (44), the receipt cancelled, nothing fiscalized', async () => {
    h.web.register.setFault('noPaper');
    expect(await refusal('job-paper')).toMatchObject({
      code: 'KKT_NO_PAPER',
      kind: 'printer',
      driverCode: 44,
    });
    expect(h.receipts()).toHaveLength(0);
    expect(h.web.device.receipt).toBeUndefined();
  });

  it('cover open: KKT_COVER_OPEN (45)', async () => {
    h.web.register.setFault('coverOpen');
    expect(await refusal('job-cover')).toMatchObject({ code: 'KKT_COVER_OPEN', driverCode: 45 });
    expect((await kkt.status()).coverOpen).toBe(true);
  });

  it('shift older than 24 hours: KKT_SHIFT_EXPIRED (68), and the status says expired', async () => {
    h.web.register.setFault('shiftExpired');
    expect(await refusal('job-expired')).toMatchObject({
      code: 'KKT_SHIFT_EXPIRED',
      kind: 'state',
      driverCode: 68,
    });
    expect((await kkt.status()).shift.state).toBe('expired');
    await kkt.closeShift();
    await kkt.openShift();
    expect((await kkt.sell(coffeeReceipt('job-expired'), { requestId: 'job-expired-2' })).totalKop).toBe(
      45_550,
    );
  });

  it('FN archive full: KKT_FN_FULL (121); OFD backlog: KKT_FN_UNSENT_DOCUMENTS (139), the register blocked', async () => {
    h.web.register.setFault('fnFull');
    expect(await refusal('job-full')).toMatchObject({ code: 'KKT_FN_FULL', kind: 'fn', driverCode: 121 });
    h.web.register.clearFaults();
    h.web.register.setFault('ofdBacklog');
    expect(await refusal('job-ofd')).toMatchObject({ code: 'KKT_FN_UNSENT_DOCUMENTS', driverCode: 139 });
    expect((await kkt.status()).blocked).toBe(true);
    expect(h.receipts()).toHaveLength(0);
  });

  it('too little cash for a payout: KKT_NO_CASH (80)', async () => {
    await expect(kkt.cashOut(1)).rejects.toMatchObject({ code: 'KKT_NO_CASH', driverCode: 80 });
  });

  it('bad task fields get the driver codes for a bad sum, a bad tax or a missing parameter', async () => {
    const client = new AtolWebClient({ url: h.web.url, pollIntervalMs: 10 });
    const base = {
      type: 'sell',
      items: [{ type: 'position', name: 'X', price: 1, quantity: 1, amount: 1, tax: { type: 'vat20' } }],
      payments: [{ type: 'cash', sum: 1 }],
    };
    const cases: Array<[string, unknown, number]> = [
      ['sum', { ...base, payments: [{ type: 'cash', sum: 'a lot' }] }, 16],
      ['tax', { ...base, items: [{ ...base.items[0], tax: { type: 'vat99' } }] }, 144],
      ['missing', { type: 'sell', payments: base.payments }, 8],
      ['amount', { ...base, items: [{ ...base.items[0], amount: 2 }] }, 16],
      ['unknown task', { type: 'launchRocket' }, 11],
    ];
    for (const [uuid, task, code] of cases) {
      await client.submit(uuid, [task as { type: string }], 'test');
      const settled = await client.settle(uuid, Date.now() + 2000);
      expect(
        settled.kind === 'final' && [settled.results[0]?.status, settled.results[0]?.error?.code],
      ).toEqual(['error', code]);
    }
    expect(h.receipts()).toHaveLength(0);
    expect(h.web.device.receipt).toBeUndefined();
  });
});
