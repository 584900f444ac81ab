import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Kkt } from '../../src/drivers/atol/kkt.js';
import type { ReceiptInput } from '../../src/drivers/atol/receipt.js';
import { TcpLink } from '../../src/drivers/atol/transport/tcpLink.js';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';

/**
 * Every receipt kind through the real driver to the emulated register over TCP: the register's own
 * document (3 or 31), its operation (1054) and, for corrections, what it prints of the basis.
 */

const TZ = 'Europe/Moscow';
let emulator: AtolEmulator;
let kkt: Kkt;
let documents: JournalEntry[];
let printed: string[];

beforeEach(async () => {
  emulator = await startAtolEmulator({ port: 0, persist: false, timeZone: TZ, asyncLatencyMs: 5 });
  documents = [];
  printed = [];
  emulator.on('document', (entry) => documents.push(entry));
  emulator.on('printed', (printout) => printed.push(printout.text));
  kkt = new Kkt({
    link: () => new TcpLink({ host: '127.0.0.1', port: emulator.port }),
    timeZone: TZ,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    taxBytes: EMULATOR_EXTRA_TAX_BYTES,
  });
  await kkt.connect();
  await kkt.openShift();
  await kkt.cashIn(1_000_000);
});

afterEach(async () => {
  await kkt.close();
  await emulator.close();
});

const receipt = (
  type: ReceiptInput['type'],
  marker: string,
  extra: Partial<ReceiptInput> = {},
): ReceiptInput => ({
  type,
  taxationType: 'osn',
  operator: { name: 'Иванова А.С.' },
  items: [
    {
      type: 'position',
      name: 'Чай',
      priceKop: 12_500,
      quantityMilli: 2000,
      amountKop: 25_000,
      tax: { type: 'vat22' },
    },
  ],
  payments: [{ type: 'cash', sumKop: 25_000 }],
  marker,
  ...extra,
});

const KINDS = [
  ['sell', 1, 3, 1],
  ['sellReturn', 2, 3, 2],
  ['buy', 4, 3, 3],
  ['buyReturn', 5, 3, 4],
  ['sellCorrection', 7, 31, 1],
  ['sellReturnCorrection', 8, 31, 2],
  ['buyCorrection', 9, 31, 3],
  ['buyReturnCorrection', 10, 31, 4],
] as const;

describe('every receipt kind on the emulated register', () => {
  for (const [type, typeByte, documentType, operation] of KINDS) {
    it(`${type}: type byte ${typeByte}, FD type ${documentType}, 1054 = ${operation}, read back by its marker`, async () => {
      const correction = type.endsWith('Correction')
        ? { correction: { type: 'self' as const, baseDate: '2026-11-30' } }
        : {};
      const drawer = emulator.device.cashKop;
      const result = await kkt.receipt(receipt(type, `m-${typeByte}`, correction));
      expect(documents.at(-1)).toMatchObject({
        receiptType: typeByte,
        documentType,
        marker: `m-${typeByte}`,
      });
      const back = await kkt.document(result.fiscalDocumentNumber);
      expect(back).toMatchObject({
        documentType,
        operationType: operation,
        marker: `m-${typeByte}`,
        totalKop: 25_000,
      });
      // Cash in for sales and purchase returns, out for sale returns and purchases.
      const into = operation === 1 || operation === 4 ? 25_000 : -25_000;
      expect(emulator.device.cashKop).toBe(drawer + into);
    });
  }

  it('prints a correction with its title and basis', async () => {
    await kkt.receipt(
      receipt('sellCorrection', 'm-c', {
        correction: { type: 'instruction', baseDate: '2026-11-30', baseNumber: '77-ПР' },
      }),
    );
    const paper = printed.at(-1) ?? '';
    expect(paper).toContain('КАССОВЫЙ ЧЕК КОРРЕКЦИИ');
    expect(paper).toContain('КОРРЕКЦИЯ ПРИХОДА');
    expect(paper).toMatch(/ТИП КОРРЕКЦИИ\s+ПО ПРЕДПИСАНИЮ/);
    expect(paper).toMatch(/ДАТА РАСЧЕТА\s+30\.11\.2026/);
    expect(paper).toMatch(/НОМЕР ПРЕДПИСАНИЯ\s+77-ПР/);
  });

  it('gives change from cash tendered over the total and keeps only the net cash', async () => {
    const drawer = emulator.device.cashKop;
    await kkt.receipt(receipt('sell', 'm-change', { payments: [{ type: 'cash', sumKop: 30_000 }] }));
    expect(documents.at(-1)).toMatchObject({ changeKop: 5_000, totalKop: 25_000 });
    expect(emulator.device.cashKop).toBe(drawer + 25_000);
    expect(printed.at(-1)).toMatch(/СДАЧА\s+=50\.00/);
  });

  it('prints an advance (1214 = 3, 1212 = 10, VAT 22/122) and its final receipt paid by the prepayment (1215)', async () => {
    await kkt.receipt(
      receipt('sell', 'm-adv', {
        items: [
          {
            type: 'position',
            name: 'Аванс за заказ 17',
            priceKop: 25_000,
            quantityMilli: 1000,
            amountKop: 25_000,
            tax: { type: 'vat122' },
            paymentMethod: 'advance',
            paymentObject: 'payment',
          },
        ],
      }),
    );
    expect(documents.at(-1)?.items?.[0]).toMatchObject({ paymentMethod: 3, paymentObject: 10 });
    expect(printed.at(-1)).toContain('АВАНС');
    const drawer = emulator.device.cashKop;
    await kkt.receipt(receipt('sell', 'm-final', { payments: [{ type: 'prepaid', sumKop: 25_000 }] }));
    expect(documents.at(-1)?.payments).toEqual([{ paymentType: 3, sumKop: 25_000 }]);
    expect(emulator.device.cashKop).toBe(drawer);
  });
});
