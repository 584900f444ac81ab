import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { positionAmountKop, type ReceiptInput } from '../../src/drivers/atol/receipt.js';
import {
  AtolWebClient,
  type AtolWebKkt,
  KktWebRejectedError,
  KktWebUnreachableError,
} from '../../src/drivers/atol/web/index.js';
import { ValidationError } from '../../src/lib/errors.js';
import { coffeeReceipt, startWeb, type WebHarness, webKkt } from './support.js';

/**
 * Every operation of the driver-10 backend against the web facade on loopback, over real HTTP, with the
 * emulated register behind it.
 */

let h: WebHarness;
let kkt: AtolWebKkt;

beforeEach(async () => {
  h = await startWeb();
  kkt = webKkt(h.web);
});

afterEach(async () => {
  await kkt.close();
  await h.web.close();
  expect(h.warnings).toEqual([]);
});

type Position = Extract<ReceiptInput['items'][number], { type: 'position' }>;

const position = (
  name: string,
  priceKop: number,
  quantityMilli: number,
  tax: Position['tax']['type'],
  extra: Partial<Position> = {},
): Position => ({
  type: 'position',
  name,
  priceKop,
  quantityMilli,
  amountKop: positionAmountKop(priceKop, quantityMilli),
  tax: { type: tax },
  ...extra,
});

describe('the web backend drives the register through the web server', () => {
  it('identifies the register and reads its state', async () => {
    const info = await kkt.connect();
    const identity = h.web.device.identity;
    expect(info).toMatchObject({
      model: identity.modelCode,
      modelName: identity.modelName,
      serial: identity.serial,
      platform: '2.5',
      lineWidth: identity.lineWidth,
      ffdVersion: { kkt: 4, fn: 4 },
    });
    expect(kkt.isConnected).toBe(true);
    const status = await kkt.status();
    expect(status).toMatchObject({
      fiscalized: true,
      blocked: false,
      shift: { state: 'closed', number: 0 },
      paper: { present: true },
      coverOpen: false,
    });
    expect(status.deviceDateTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+03:00$/);
    expect(await kkt.lastFiscalDocumentNumber()).toBe(0);
  });

  it('opens the shift, sells, returns, moves cash, prints an X report and closes the shift', async () => {
    const opened = await kkt.openShift({ name: 'Иванова А.С.' });
    expect(opened).toMatchObject({
      fiscalDocumentNumber: 1,
      shiftNumber: 1,
      fnNumber: h.web.device.identity.fnSerial,
    });
    const status = await kkt.status();
    expect(status.shift.state).toBe('open');
    expect(status.shift.expiresAt).toMatch(/\+03:00$/);

    const sale = await kkt.sell(coffeeReceipt('job-sale'), { requestId: 'job-sale' });
    expect(sale).toMatchObject({
      fiscalDocumentNumber: 2,
      shiftNumber: 1,
      receiptNumber: 1,
      totalKop: 45_550,
    });
    expect(sale.fiscalSign).toBe(h.receipts()[0]?.fiscalSign);
    expect(sale.dateTime).toBe(h.receipts()[0]?.dateTime);

    await kkt.cashIn(100_000);
    const refund = await kkt.sellReturn(
      { ...coffeeReceipt('job-refund'), payments: [{ type: 'cash', sumKop: 45_550 }] },
      { requestId: 'job-refund' },
    );
    expect(refund).toMatchObject({ fiscalDocumentNumber: 3, receiptNumber: 2, totalKop: 45_550 });
    await kkt.cashOut(10_000);
    expect(h.web.device.cashKop).toBe(100_000 - 45_550 - 10_000);

    await kkt.reportX({ name: 'Иванова А.С.' });
    expect(h.web.device.printouts.some((p) => p.kind === 'xReport')).toBe(true);

    const closed = await kkt.closeShift({ name: 'Иванова А.С.' });
    expect(closed).toMatchObject({ fiscalDocumentNumber: 4, shiftNumber: 1 });
    expect((await kkt.status()).shift.state).toBe('closed');
    expect(h.documents.map((d) => d.kind)).toEqual(['openShift', 'receipt', 'receipt', 'closeShift']);
    expect(h.receipts().map((r) => [r.receiptType, r.marker])).toEqual([
      [1, 'job-sale'],
      [2, 'job-refund'],
    ]);
  });

  it('prints a 10-position receipt of VAT rates and weighed goods to the kopeck', async () => {
    const items: Position[] = [
      position('Молоко 3,2% 1 л', 8990, 2000, 'vat10'),
      position('Яблоки Гала', 12_990, 1234, 'vat10', { measurementUnit: 'kilogram' }),
      position('Сыр Российский весовой', 89_900, 350, 'vat10', { measurementUnit: 'kilogram' }),
      position('Хлеб Бородинский', 4500, 1000, 'vat10'),
      position('Кофе в зёрнах 1 кг', 129_900, 1000, 'vat20'),
      position('Вода 0,5 л', 5990, 6000, 'vat20'),
      position('Доставка', 25_000, 1000, 'vat20', { paymentObject: 'service' }),
      position('Пакет', 500, 1000, 'vat20'),
      position('Книга', 45_000, 1000, 'vat0'),
      position('Бананы', 8990, 1505, 'none', { measurementUnit: 'kilogram' }),
    ];
    const totalKop = items.reduce((sum, item) => sum + item.amountKop, 0);
    await kkt.openShift();
    const result = await kkt.sell(
      {
        taxationType: 'osn',
        operator: { name: 'Петров П.П.', vatin: '500100732259' },
        items,
        payments: [
          { type: 'cash', sumKop: 100_000 },
          { type: 'electronically', sumKop: totalKop - 100_000 },
        ],
        totalKop,
        marker: 'job-ten',
      },
      { requestId: 'job-ten' },
    );
    expect(result.totalKop).toBe(totalKop);
    const [receipt] = h.receipts();
    expect(receipt?.totalKop).toBe(totalKop);
    expect(receipt?.items?.map((i) => [i.name, i.priceKop, i.quantityMilli, i.amountKop, i.tax])).toEqual(
      items.map((i) => [i.name, i.priceKop, i.quantityMilli, i.amountKop, i.tax.type]),
    );
    // Weighed goods carry the kilogram (tag 2108 = 11); pieces carry 0.
    expect(receipt?.items?.map((i) => i.measurementUnit)).toEqual([0, 11, 11, 0, 0, 0, 0, 0, 0, 11]);
    expect(receipt?.payments).toEqual([
      { paymentType: 1, sumKop: 100_000 },
      { paymentType: 2, sumKop: totalKop - 100_000 },
    ]);
    const document = await kkt.lastDocument();
    expect(document).toMatchObject({
      fiscalDocumentNumber: result.fiscalDocumentNumber,
      documentType: 3,
      totalKop,
      operationType: 1,
      marker: 'job-ten',
      fiscalSign: result.fiscalSign,
    });
  });

  it('reads documents and the FN', async () => {
    await kkt.openShift();
    await kkt.sell(coffeeReceipt('job-fn'), { requestId: 'job-fn' });
    const shiftDocument = await kkt.document(1);
    expect(shiftDocument).toMatchObject({ fiscalDocumentNumber: 1, documentType: 2, shiftNumber: 1 });
    const fn = await kkt.fnInfo();
    expect(fn).toMatchObject({
      serial: h.web.device.identity.fnSerial,
      lastDocumentNumber: 2,
      inn: h.web.device.identity.inn,
      registrationNumber: h.web.device.identity.registrationNumber,
      taxationTypes: ['osn', 'usnIncome'],
      ofd: { unsentCount: 2, firstUnsentNumber: 1 },
      warnings: { memoryOverflow: false, ofdTimeout: false },
    });
    expect(fn.validUntil).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(fn.lastDocumentDateTime).toBe(h.receipts()[0]?.dateTime);
    await expect(kkt.document(99)).rejects.toMatchObject({ code: 'KKT_FN_NO_DATA', driverCode: 123 });
  });

  it('checks a receipt before anything is sent', async () => {
    await expect(
      kkt.sell({ ...coffeeReceipt('x'), totalKop: 1 }, { requestId: 'job-bad' }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(kkt.sell(coffeeReceipt('x'), { requestId: 'has space' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(kkt.cashIn(0)).rejects.toBeInstanceOf(ValidationError);
    expect(h.web.requestCount).toBe(0);
  });
});

describe('server settings', () => {
  it('sends Basic credentials; wrong ones are refused and nothing is queued', async () => {
    await h.web.close();
    h = await startWeb({ auth: { username: 'kassa', password: 's3cret' } });
    const good = webKkt(h.web, { auth: { username: 'kassa', password: 's3cret' } });
    expect((await good.connect()).serial).toBe(h.web.device.identity.serial);
    const bad = webKkt(h.web, { auth: { username: 'kassa', password: 'wrong' } });
    await expect(bad.sell(coffeeReceipt('a'), { requestId: 'job-auth' })).rejects.toMatchObject({
      code: 'KKT_WEB_AUTH',
      status: 401,
    });
    expect(h.receipts()).toHaveLength(0);
  });

  it('names the register with deviceID; a request for another device is refused', async () => {
    await h.web.close();
    h = await startWeb({ deviceId: 'kkt-1' });
    expect((await webKkt(h.web, { deviceId: 'kkt-1' }).connect()).serial).toBeTruthy();
    const other = webKkt(h.web, { deviceId: 'kkt-2' });
    await expect(other.connect()).rejects.toBeInstanceOf(KktWebRejectedError);
  });

  it('says nothing was sent when the server is not there', async () => {
    const url = h.web.url;
    await h.web.close();
    const lost = webKkt(h.web, { url });
    await expect(lost.sell(coffeeReceipt('a'), { requestId: 'job-down' })).rejects.toBeInstanceOf(
      KktWebUnreachableError,
    );
    h = await startWeb();
  });
});

describe('the HTTP API as the server speaks it', () => {
  it('queues a request under its uuid, answers 409 for the same uuid, and keeps the results', async () => {
    const client = new AtolWebClient({ url: h.web.url, pollIntervalMs: 10 });
    const task = { type: 'getDeviceInfo' };
    expect(await client.submit('u-1', [task], 'test')).toEqual({ kind: 'accepted' });
    expect(await client.submit('u-1', [task], 'test')).toEqual({ kind: 'duplicate' });
    const settled = await client.settle('u-1', Date.now() + 2000);
    expect(settled.kind).toBe('final');
    expect(settled.kind === 'final' && settled.results[0]?.status).toBe('ready');
    expect((await client.lookup('u-1')).kind).toBe('found');
    expect(await client.lookup('nope')).toEqual({ kind: 'unknown' });
  });

  it('shows wait → inProgress → ready while a task runs', async () => {
    h.web.setFault('taskSlowMs', 150);
    const client = new AtolWebClient({ url: h.web.url });
    await client.submit('u-slow', [{ type: 'getDeviceStatus' }, { type: 'getDeviceStatus' }], 'test');
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const found = await client.lookup('u-slow');
      if (found.kind === 'found') for (const r of found.results) seen.add(r.status);
      if (found.kind === 'found' && found.results.every((r) => r.status === 'ready')) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect([...seen].sort()).toEqual(['inProgress', 'ready', 'wait']);
  });

  it('cancels the rest of a request after a failed task', async () => {
    const client = new AtolWebClient({ url: h.web.url, pollIntervalMs: 10 });
    await client.submit(
      'u-fail',
      [{ type: 'getFnDocument', fiscalDocumentNumber: 5 }, { type: 'getDeviceInfo' }],
      't',
    );
    const settled = await client.settle('u-fail', Date.now() + 2000);
    expect(settled.kind === 'final' && settled.results.map((r) => [r.status, r.error?.code])).toEqual([
      ['error', 123],
      ['canceled', 502],
    ]);
  });
});
