import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeTlvList } from '../../src/drivers/atol/protocol/tlv.js';
import { type ReceiptInput, validateReceipt } from '../../src/drivers/atol/receipt.js';
import { AtolWebClient, type AtolWebKkt, receiptTask } from '../../src/drivers/atol/web/index.js';
import { parseJsonLossless } from '../../src/lib/json.js';
import { coffeeReceipt, startWeb, type WebHarness, webKkt } from './support.js';

/**
 * Receipt kinds through driver 10's JSON tasks (docs/protocol/atol-v3.md §17): the task types and the
 * correction fields as public integrations send them, run by the web facade on the emulated register.
 */

let h: WebHarness;
let kkt: AtolWebKkt;

beforeEach(async () => {
  h = await startWeb();
  kkt = webKkt(h.web);
  await kkt.connect();
  await kkt.openShift({ name: 'Иванова А.С.' });
  await kkt.cashIn(1_000_000);
});

afterEach(async () => {
  await kkt.close();
  await h.web.close();
  expect(h.warnings).toEqual([]);
});

/**
 * A correction task as a public integration documents it (a sample in a C++ POS system's ATOL driver-10
 * module, docs/protocol/atol-v3.md §17): the top-level fields verbatim; one position of that sample,
 * with a tax and a payment added so the task is whole.
 */
const PUBLIC_CORRECTION_TASK = `{
  "type": "sellCorrection",
  "taxationType": "osn",
  "electronically": true,
  "ignoreNonFiscalPrintErrors": false,
  "correctionType": "self",
  "correctionBaseDate": "2017.07.25",
  "correctionBaseNumber": "1175",
  "operator": { "name": "Иванов", "vatin": "123654789507" },
  "clientInfo": { "emailOrPhone": "+79161234567" },
  "items": [
    { "type": "position", "name": "Бананы", "price": 73.15, "quantity": 1.0, "amount": 73.15,
      "department": 1, "paymentMethod": "advance", "paymentObject": "commodity", "tax": { "type": "none" } }
  ],
  "payments": [{ "type": "cash", "sum": 73.15 }],
  "total": 73.15
}`;

describe('receipt kinds on the driver-10 backend', () => {
  it('runs the public correction task: FD 31 of type 7 with 1173 = 0 and 1174 holding the date and number', async () => {
    const client = new AtolWebClient({ url: h.web.url, pollIntervalMs: 10 });
    const task = parseJsonLossless(PUBLIC_CORRECTION_TASK) as { type: string };
    expect(await client.submit('pub-1', [task], 'test')).toEqual({ kind: 'accepted' });
    const settled = await client.settle('pub-1', Date.now() + 5000);
    expect(settled.kind === 'final' && settled.results[0]?.status).toBe('ready');
    const entry = h.receipts().at(-1)!;
    expect(entry).toMatchObject({ receiptType: 7, documentType: 31, totalKop: 7315 });
    const fd = h.web.device.document(entry.documentNumber)!;
    expect(fd.tlvs.find((t) => t.tag === 1173)?.value).toEqual(Buffer.of(0));
    const basis = decodeTlvList(fd.tlvs.find((t) => t.tag === 1174)!.value);
    expect(basis.find((t) => t.tag === 1178)?.value.readUInt32LE(0)).toBe(Date.UTC(2017, 6, 25) / 1000);
    expect(basis.find((t) => t.tag === 1179)?.value.toString('latin1')).toBe('1175');
  });

  it("writes a correction's fields in the public task's form", () => {
    const ours = receiptTask(
      validateReceipt({
        ...coffeeReceipt(),
        type: 'sellCorrection',
        correction: { type: 'self', baseDate: '2017-07-25', baseNumber: '1175' },
      }),
    );
    const published = JSON.parse(PUBLIC_CORRECTION_TASK) as Record<string, unknown>;
    for (const field of ['type', 'correctionType', 'correctionBaseDate', 'correctionBaseNumber'])
      expect(ours[field]).toBe(published[field]);
  });

  it('refuses a correction task without its date, as the driver refuses a missing parameter; nothing prints', async () => {
    const client = new AtolWebClient({ url: h.web.url, pollIntervalMs: 10 });
    const task = parseJsonLossless(PUBLIC_CORRECTION_TASK) as Record<string, unknown> & { type: string };
    delete task.correctionBaseDate;
    const before = h.receipts().length;
    await client.submit('pub-2', [task], 'test');
    const settled = await client.settle('pub-2', Date.now() + 5000);
    expect(settled.kind === 'final' && settled.results[0]?.status).toBe('error');
    expect(h.receipts()).toHaveLength(before);
  });

  const KINDS: Array<[ReceiptInput['type'], number, number]> = [
    ['sell', 1, 3],
    ['sellReturn', 2, 3],
    ['buy', 4, 3],
    ['buyReturn', 5, 3],
    ['sellCorrection', 7, 31],
    ['sellReturnCorrection', 8, 31],
    ['buyCorrection', 9, 31],
    ['buyReturnCorrection', 10, 31],
  ];
  it.each(KINDS)(
    '%s: the task prints receipt type %i, FD type %i, read back with its marker',
    async (type, byte, fdType) => {
      const correction = type.endsWith('Correction')
        ? { correction: { type: 'self' as const, baseDate: '2026-11-30' } }
        : {};
      const result = await kkt.receipt(
        { ...coffeeReceipt(`w-${byte}`), type, ...correction },
        { requestId: `kind-${type}` },
      );
      expect(h.receipts().at(-1)).toMatchObject({
        receiptType: byte,
        documentType: fdType,
        marker: `w-${byte}`,
      });
      expect(await kkt.document(result.fiscalDocumentNumber)).toMatchObject({
        documentType: fdType,
        marker: `w-${byte}`,
      });
    },
  );
});
