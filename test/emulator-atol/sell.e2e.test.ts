import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  beginPosition,
  closeReceipt,
  DocumentTag,
  DocumentType,
  enterMode,
  fnStatus,
  longStatus,
  openReceipt,
  PaymentType,
  payment,
  ReceiptType,
  readDocumentChunk,
  registerPosition,
  selectDocument,
  Tag,
  writeTag,
} from '../../src/drivers/atol/commands/index.js';
import { encodeCp866 } from '../../src/drivers/atol/protocol/cp866.js';
import { ffdSecondsToWallClock, formatWallClock } from '../../src/drivers/atol/protocol/dateTime.js';
import { decodeTlvList, decodeVln, findTlv, type Tlv, tlvText } from '../../src/drivers/atol/protocol/tlv.js';
import { type AtolEmulator, type JournalEntry, startAtolEmulator } from '../../src/emulators/atol/index.js';
import { EMULATOR_TAX_BYTES } from '../../src/emulators/atol/vat.js';
import { connectTcp, type TestHost } from './host.js';

const MEASUREMENT = { piece: 0, gram: 10, kilogram: 11 } as const;

interface Item {
  name: string;
  priceKop: number;
  quantityMilli: number;
  tax: keyof typeof EMULATOR_TAX_BYTES;
  unit: keyof typeof MEASUREMENT;
}

/** Price × quantity rounded half up, as the register checks it. */
const amountOf = (item: Item) => Math.floor((item.priceKop * item.quantityMilli + 500) / 1000);

const ITEMS: Item[] = [
  { name: 'Капучино 300 мл', priceKop: 18_000, quantityMilli: 2_000, tax: 'vat20', unit: 'piece' },
  { name: 'Круассан', priceKop: 9_550, quantityMilli: 1_000, tax: 'none', unit: 'piece' },
  { name: 'Сыр Российский', priceKop: 89_990, quantityMilli: 347, tax: 'vat5', unit: 'kilogram' },
  { name: 'Орехи кешью', priceKop: 199, quantityMilli: 125_000, tax: 'vat22', unit: 'gram' },
  { name: 'Книга "Кассы"', priceKop: 55_000, quantityMilli: 1_000, tax: 'vat10', unit: 'piece' },
  { name: 'Яблоки', priceKop: 12_990, quantityMilli: 1_255, tax: 'vat20', unit: 'kilogram' },
  { name: 'Доставка', priceKop: 25_000, quantityMilli: 1_000, tax: 'none', unit: 'piece' },
  { name: 'Чай №1 (пакетики)', priceKop: 3_333, quantityMilli: 3_000, tax: 'vat22', unit: 'piece' },
  { name: 'Специи', priceKop: 7, quantityMilli: 40_000, tax: 'vat5', unit: 'gram' },
  { name: 'Вода 0,5 л', priceKop: 5_990, quantityMilli: 6_000, tax: 'vat20', unit: 'piece' },
];

/** Reads a document as the sources do: A4 45 gives type and size, each A4 46 one TLV, DA at the end. */
async function readDocument(
  host: TestHost,
  number: number,
): Promise<{ type: number; tlvs: Tlv[]; chunks: number }> {
  const header = await host.ok(selectDocument, { documentNumber: number });
  const tlvs: Tlv[] = [];
  let bytes = 0;
  for (;;) {
    const { errorCode, result } = await host.run(readDocumentChunk, undefined);
    if (errorCode === 0xda) break;
    expect(errorCode).toBe(0);
    const list = decodeTlvList(result!);
    expect(list).toHaveLength(1);
    tlvs.push(list[0]!);
    bytes += result!.length;
  }
  expect(bytes).toBe(header.size);
  return { type: header.documentType, tlvs, chunks: tlvs.length };
}

describe('a full sell receipt over TCP with the real host transport', () => {
  let emulator: AtolEmulator;
  let host: TestHost;

  beforeEach(async () => {
    emulator = await startAtolEmulator({
      port: 0,
      persist: false,
      asyncLatencyMs: 5,
      timeZone: 'Europe/Moscow',
    });
    host = await connectTcp(emulator.port);
  });

  afterEach(async () => {
    await host.close();
    await emulator.close();
  });

  it('registers ten positions, pays mixed, closes asynchronously and reads the FD back', async () => {
    const documents: JournalEntry[] = [];
    emulator.on('document', (entry) => documents.push(entry));
    const asyncPackets: number[] = [];
    emulator.on('command', (event) => {
      if (event.code === '4A') asyncPackets.push(event.errorCode);
    });

    await host.ok(enterMode, { mode: 1, password: 30 });
    await host.ok(openReceipt, { flags: 0, receiptType: ReceiptType.Sell });
    for (const item of ITEMS) {
      await host.ok(beginPosition, undefined);
      await host.ok(writeTag, {
        flags: 0,
        tlv: { tag: Tag.measurementUnit, value: Buffer.of(MEASUREMENT[item.unit]) },
      });
      await host.ok(registerPosition, {
        flags: 0,
        priceKop: item.priceKop,
        quantityMilli: item.quantityMilli,
        amountKop: amountOf(item),
        taxCode: EMULATOR_TAX_BYTES[item.tax],
        taxSumKop: 0,
        department: 1,
        paymentObject: 1,
        paymentMethod: 4,
        discountSign: 0,
        discountKop: 0,
        name: item.name,
      });
    }
    await host.ok(writeTag, { flags: 1, tlv: { tag: Tag.cashierName, value: encodeCp866('Иванова А.С.') } });
    await host.ok(writeTag, { flags: 1, tlv: { tag: Tag.taxationSystem, value: Buffer.of(0x02) } });
    await host.ok(writeTag, { flags: 0, tlv: { tag: 1192, value: encodeCp866('job:7f3a-0001') } });

    const totalKop = ITEMS.reduce((sum, item) => sum + amountOf(item), 0);
    const status = await host.ok(longStatus, undefined);
    expect(status.receiptState).toBe(ReceiptType.Sell);
    expect(status.receiptSumKop).toBe(totalKop);

    const card = 100_000;
    const paid = await host.ok(payment, { flags: 0, paymentType: PaymentType.Electronically, sumKop: card });
    expect(paid).toEqual({ remainderKop: totalKop - card, changeKop: 0 });
    const cashTendered = Math.ceil((totalKop - card) / 10_000) * 10_000;
    await host.ok(closeReceipt, { flags: 0, paymentType: PaymentType.Cash, sumKop: cashTendered });
    expect(asyncPackets).toEqual([0]);

    // The implicit shift opening took FD 1; the receipt is FD 2.
    const fn = await host.ok(fnStatus, undefined);
    expect(fn.lastDocumentNumber).toBe(2);
    expect(documents.map((d) => [d.documentNumber, d.kind])).toEqual([
      [1, 'openShift'],
      [2, 'receipt'],
    ]);
    const journal = documents[1]!;
    expect(journal.totalKop).toBe(totalKop);
    expect(journal.changeKop).toBe(cashTendered - (totalKop - card));
    expect(journal.marker).toBe('job:7f3a-0001');
    expect(journal.items).toHaveLength(10);
    expect(journal.items![2]).toMatchObject({ quantityMilli: 347, measurementUnit: 11, tax: 'vat5' });

    const back = await readDocument(host, 2);
    expect(back.type).toBe(DocumentType.Receipt);
    expect(back.chunks).toBeGreaterThan(1);
    const int = (tag: number) => decodeVln(findTlv(back.tlvs, tag)!);
    expect(int(DocumentTag.documentNumber)).toBe(2);
    expect(int(DocumentTag.total)).toBe(totalKop);
    expect(int(DocumentTag.shiftNumber)).toBe(1);
    expect(int(DocumentTag.receiptNumber)).toBe(1);
    expect(int(DocumentTag.operationType)).toBe(1);
    expect(int(DocumentTag.cashTotal) + int(DocumentTag.electronicTotal)).toBe(totalKop);
    const sign = findTlv(back.tlvs, DocumentTag.fiscalSign)!;
    expect(sign.length).toBe(6);
    expect(String(sign.readUInt32BE(2))).toBe(journal.fiscalSign);
    expect(`${formatWallClock(ffdSecondsToWallClock(int(DocumentTag.dateTime)))}+03:00`).toBe(
      journal.dateTime,
    );
    expect(tlvText(findTlv(back.tlvs, 1192))).toBe('job:7f3a-0001');
    expect(tlvText(findTlv(back.tlvs, DocumentTag.fnNumber))).toBe(emulator.device.identity.fnSerial);

    const printed = emulator.device.printouts.at(-1)!;
    expect(printed.kind).toBe('receipt');
    expect(printed.text).toContain('КАССОВЫЙ ЧЕК');
    expect(printed.text).toContain('ПРИХОД');
    expect(printed.text).toContain('НДС 22%');
    expect(printed.text).toContain('0.347 кг x 899.90');
    for (const line of printed.text.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(32);
  });
});
