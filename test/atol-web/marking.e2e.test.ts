import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReceiptInput } from '../../src/drivers/atol/receipt.js';
import { type AtolWebKkt, KktDriverError } from '../../src/drivers/atol/web/index.js';
import type { Printout } from '../../src/emulators/atol/index.js';
import { GS } from '../../src/lib/markingCode.js';
import { fnDocumentTlv, startWeb, type WebHarness, webKkt } from './support.js';

/**
 * Marked goods through the driver-10 backend and the web facade over real HTTP: the register checks each
 * code (beginMarkingCodeValidation → getMarkingCodeValidationStatus → accept/decline), the sale carries the
 * accepted codes, and the FN keeps 1163/2106/2110 (docs/marking.md).
 */

/** A shoe code from a public ATOL driver example (src/lib/markingCode.test.ts names the source). */
const SHOES =
  `010463003022541621Yu7t_HclAYqqD${GS}91006A${GS}` +
  '92lYF//jixJXUlaO7WTSPELeZj20OiWEYGcF2HCN8/cUN6f+atR6qDTy2Rw6q6ZSC9TFScVroPNfCL8N8gjgKH1g==';
/** The same GTIN with a serial that picks the emulator's answer (docs/marking.md, "The emulator"). */
const withSerial = (serial: string) => `010463003022541621${serial}${GS}91006A${GS}92abcd`;
/** A weighed-goods code (cheese, part of a head): Честный ЗНАК's own example quoted on the Fabius wiki. */
const CHEESE = `0104680029460908215jcmHzLmkdPML${GS}938p9E`;

let h: WebHarness;
let kkt: AtolWebKkt;
let printouts: Printout[];

beforeEach(async () => {
  h = await startWeb();
  kkt = webKkt(h.web);
  printouts = [];
  h.web.register.on('printed', (p) => printouts.push(p));
  await kkt.connect();
  await kkt.openShift({ name: 'Иванова А.С.' });
});

afterEach(async () => {
  await kkt.close();
  await h.web.close();
  expect(h.warnings).toEqual([]);
});

const check = (
  code: string,
  status: 'itemPieceSold' | 'itemDryForSale' = 'itemPieceSold',
  timeoutMs = 3000,
) =>
  kkt.checkMarkingCode(
    {
      marking: { code, status },
      quantityMilli: status === 'itemPieceSold' ? 1000 : 250,
      measurementUnit: status === 'itemPieceSold' ? 'piece' : 'kilogram',
    },
    { timeoutMs },
  );

function markedReceipt(checkResult: Awaited<ReturnType<typeof check>>): Omit<ReceiptInput, 'type'> {
  if (checkResult.kind !== 'accepted') throw new Error('expected an accepted code');
  return {
    taxationType: 'osn',
    operator: { name: 'Иванова А.С.' },
    items: [
      {
        type: 'position',
        name: 'Кроссовки',
        priceKop: 500_000,
        quantityMilli: 1000,
        amountKop: 500_000,
        tax: { type: 'vat20' },
        paymentObject: 'commodityWithMarking',
        marking: { code: SHOES, status: 'itemPieceSold', checkResult: checkResult.checkResult },
        industryInfo: [
          {
            fois: '030',
            date: '21.11.2023',
            number: '1944',
            attribute: 'UUID=2e1a2bd4-7c1f-4bd5-9b2e-54d0a6c2d3b1&Time=1765000000000',
          },
        ],
      },
    ],
    payments: [{ type: 'cash', sumKop: 500_000 }],
    marker: 'job-marked-1',
  };
}

describe('the register checks marking codes before the sale', () => {
  it('accepts a good code; the sale carries it and the FN keeps 1163 (GS1.М), 2106, 2110, 1260', async () => {
    await kkt.resetMarkingChecks();
    const outcome = await check(SHOES);
    expect(outcome).toEqual({
      kind: 'accepted',
      checkResult: {
        imcCheckFlag: true,
        imcCheckResult: true,
        imcStatusInfo: true,
        imcEstimatedStatusCorrect: true,
        ecrStandAloneFlag: false,
      },
    });
    const result = await kkt.sell(markedReceipt(outcome), { requestId: randomUUID() });
    const tlv = await fnDocumentTlv(h.web, result.fiscalDocumentNumber);
    const [position] = tlv['1059'] as Array<Record<string, unknown>>;
    expect(position).toMatchObject({
      '1212': 33,
      '1163': [{ '1305': '010463003022541621Yu7t_HclAYqqD' }],
      '2106': 0x0f,
      '2110': 1,
      '1260': [
        {
          '1262': '030',
          '1263': '21.11.2023',
          '1264': '1944',
          '1265': 'UUID=2e1a2bd4-7c1f-4bd5-9b2e-54d0a6c2d3b1&Time=1765000000000',
        },
      ],
    });
    const receipt = printouts.find((p) => p.kind === 'receipt')!;
    expect(receipt.text).toContain('[М] Кроссовки');
    expect(receipt.text).toContain('КМ 04630030225416 Yu7t_HclAYqqD');
  });

  it('checks a weighed code with its quantity and unit (status 2: measured goods for sale)', async () => {
    expect((await check(CHEESE, 'itemDryForSale')).kind).toBe('accepted');
  });

  it.each([
    ['NOTFOUND1', 'notFound'],
    ['SOLD1', 'statusIncorrect'],
    ['EXPIRED1', 'saleStopped'],
    ['FAKE1', 'notGenuine'],
    ['NOOISM1', 'oismUnavailable'],
  ])('declines a code whose serial is %s: %s, and nothing is fiscalized', async (serial, refusal) => {
    const outcome = await check(withSerial(serial));
    expect(outcome).toMatchObject({ kind: 'declined', refusal });
    expect(h.receipts()).toEqual([]);
  });

  it('waits for a slow answer, and gives up on a silent one (cancelling it, so the next check runs)', async () => {
    expect((await check(withSerial('SLOW1'))).kind).toBe('accepted');
    expect(await check(withSerial('SILENT1'), 'itemPieceSold', 1000)).toMatchObject({
      kind: 'declined',
      refusal: 'oismUnavailable',
    });
    expect((await check(SHOES)).kind).toBe('accepted');
  });

  it('refuses a sale whose code was never accepted (driver error 422), and one after the table was cleared', async () => {
    const accepted = await check(SHOES);
    await kkt.resetMarkingChecks();
    const failure = await kkt.sell(markedReceipt(accepted), { requestId: randomUUID() }).catch((e) => e);
    expect(failure).toBeInstanceOf(KktDriverError);
    expect((failure as KktDriverError).driverCode).toBe(422);
    expect(h.receipts()).toEqual([]);
  });
});
