import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  beginPosition,
  cancelReceipt,
  cashOut,
  closeReceipt,
  enterMode,
  exitMode,
  fnStatus,
  longStatus,
  openReceipt,
  openShift,
  PaymentType,
  payment,
  ReceiptType,
  Register,
  readDocumentChunk,
  readRegister,
  registerPosition,
  selectDocument,
  setDateTime,
  Tag,
  writeTag,
  zReport,
} from '../../src/drivers/atol/commands/index.js';
import { encodeCp866 } from '../../src/drivers/atol/protocol/cp866.js';
import { type AtolEmulator, startAtolEmulator } from '../../src/emulators/atol/index.js';
import { connectTcp, type TestHost } from './host.js';
import { openSellWithPosition, pollUntilMode, position, sell } from './receiptSteps.js';

const EE = 0xee;
const cashier = { flags: 0, tlv: { tag: Tag.cashierName, value: encodeCp866('Кассир') } };

describe('the register refuses what a real one refuses, with its error codes', () => {
  let emulator: AtolEmulator;
  let host: TestHost;

  beforeEach(async () => {
    emulator = await startAtolEmulator({
      port: 0,
      persist: false,
      asyncLatencyMs: 1,
      zReportStepMs: 10,
      timeZone: 'UTC',
    });
    host = await connectTcp(emulator.port);
  });

  afterEach(async () => {
    await host.close();
    await emulator.close();
  });

  it('modes: 56 only from mode 0 (66), wrong password (8C), mode 3 only for administrators (8C)', async () => {
    expect((await host.run(enterMode, { mode: 1, password: 31 })).errorCode).toBe(0x8c);
    expect((await host.run(enterMode, { mode: 3, password: 5 })).errorCode).toBe(0x8c);
    await host.ok(enterMode, { mode: 1, password: 5 });
    expect((await host.ok(longStatus, undefined)).cashierNumber).toBe(5);
    expect((await host.run(enterMode, { mode: 2, password: 30 })).errorCode).toBe(0x66);
    await host.ok(exitMode, undefined);
    await host.ok(enterMode, { mode: 3, password: 29 });
  });

  it('48 with a receipt open: 9B', async () => {
    await openSellWithPosition(host);
    expect((await host.run(exitMode, undefined)).errorCode).toBe(0x9b);
  });

  it('9A: 66 outside mode 1, 9C when the shift is open', async () => {
    expect((await host.run(openShift, { flags: 0 })).errorCode).toBe(0x66);
    await host.ok(enterMode, { mode: 1, password: 30 });
    await host.ok(openShift, { flags: 0 });
    expect((await host.run(openShift, { flags: 0 })).errorCode).toBe(0x9c);
  });

  it('92: 66 outside mode 1, 9B with a receipt open, 6A for a bad type', async () => {
    expect((await host.run(openReceipt, { flags: 0, receiptType: 1 })).errorCode).toBe(0x66);
    await host.ok(enterMode, { mode: 1, password: 30 });
    expect((await host.run(openReceipt, { flags: 0, receiptType: 3 })).errorCode).toBe(0x6a);
    await host.ok(openReceipt, { flags: 0, receiptType: ReceiptType.Sell });
    expect((await host.run(openReceipt, { flags: 0, receiptType: 1 })).errorCode).toBe(0x9b);
  });

  it('92 in a shift older than 24 hours: 88', async () => {
    await host.ok(enterMode, { mode: 1, password: 30 });
    await host.ok(openShift, { flags: 0 });
    emulator.advanceClock(24 * 3600 * 1000 + 1000);
    expect((await host.run(openReceipt, { flags: 0, receiptType: 1 })).errorCode).toBe(0x88);
    expect(emulator.device.shift.expired).toBe(true);
  });

  it('EA, 99, 4A and 59 without a receipt: 9A', async () => {
    await host.ok(enterMode, { mode: 1, password: 30 });
    expect((await host.run(beginPosition, undefined)).errorCode).toBe(0x9a);
    expect((await host.run(payment, { flags: 0, paymentType: 1, sumKop: 100 })).errorCode).toBe(0x9a);
    expect((await host.run(closeReceipt, { flags: 0, paymentType: 1, sumKop: 0 })).errorCode).toBe(0x9a);
    expect((await host.run(cancelReceipt, undefined)).errorCode).toBe(0x9a);
  });

  it('E8: a receipt tag twice is EE/0201, a receipt tag inside a position is EE/0208', async () => {
    await openSellWithPosition(host);
    await host.ok(writeTag, cashier);
    expect((await host.run(writeTag, cashier)).errorCode).toBe(EE);
    expect(await host.extendedError()).toBe(0x0201);
    await host.ok(beginPosition, undefined);
    await host.ok(writeTag, { flags: 0, tlv: { tag: Tag.measurementUnit, value: Buffer.of(0) } });
    expect(
      (await host.run(writeTag, { flags: 0, tlv: { tag: 1192, value: Buffer.from('x') } })).errorCode,
    ).toBe(EE);
    expect(await host.extendedError()).toBe(0x0208);
    // The position-level tag went to the position, not the receipt.
    await host.ok(registerPosition, position());
    expect(emulator.device.receipt!.positions[1]!.tags).toEqual([{ tag: Tag.measurementUnit, hex: '00' }]);
  });

  it('EB: EE/0207 without EA, 0A for quantity 0, 08 for a wrong amount, EE/0104 tax, EE/0105 method, 14 name', async () => {
    await openSellWithPosition(host);
    expect((await host.run(registerPosition, position())).errorCode).toBe(EE);
    expect(await host.extendedError()).toBe(0x0207);
    await host.ok(beginPosition, undefined);
    expect((await host.run(registerPosition, position({ quantityMilli: 0, amountKop: 0 }))).errorCode).toBe(
      0x0a,
    );
    // 333.33 × 0.5 = 166.665 → 166.67 (half up); 166.66 is refused.
    expect(
      (
        await host.run(
          registerPosition,
          position({ priceKop: 33_333, quantityMilli: 500, amountKop: 16_666 }),
        )
      ).errorCode,
    ).toBe(0x08);
    expect((await host.run(registerPosition, position({ taxCode: 99 }))).errorCode).toBe(EE);
    expect(await host.extendedError()).toBe(0x0104);
    expect((await host.run(registerPosition, position({ paymentMethod: 8 }))).errorCode).toBe(EE);
    expect(await host.extendedError()).toBe(0x0105);
    expect((await host.run(registerPosition, position({ name: 'Я'.repeat(129) }))).errorCode).toBe(0x14);
    await host.ok(
      registerPosition,
      position({ priceKop: 33_333, quantityMilli: 500, amountKop: 16_667, name: 'Я'.repeat(128) }),
    );
    expect(emulator.device.receipt!.positions).toHaveLength(2);
  });

  it('99: 7E for a bad payment type, 71 when non-cash exceeds the total', async () => {
    await openSellWithPosition(host, 10_000);
    expect((await host.run(payment, { flags: 0, paymentType: 6, sumKop: 100 })).errorCode).toBe(0x7e);
    expect(
      (await host.run(payment, { flags: 0, paymentType: PaymentType.Electronically, sumKop: 10_001 }))
        .errorCode,
    ).toBe(0x71);
    expect(await host.ok(payment, { flags: 0, paymentType: PaymentType.Cash, sumKop: 15_000 })).toEqual({
      remainderKop: 0,
      changeKop: 5_000,
    });
  });

  it('4A: 72 when payments fall short; the receipt stays open and nothing is fiscalized', async () => {
    await openSellWithPosition(host, 10_000);
    expect(
      (await host.run(closeReceipt, { flags: 0, paymentType: PaymentType.Cash, sumKop: 9_999 })).errorCode,
    ).toBe(0x72);
    expect((await host.ok(fnStatus, undefined)).lastDocumentNumber).toBe(1);
    expect((await host.ok(longStatus, undefined)).receiptState).toBe(ReceiptType.Sell);
    await host.ok(cancelReceipt, undefined);
    expect((await host.ok(longStatus, undefined)).receiptState).toBe(0);
  });

  it('4F: 98 when the drawer holds less', async () => {
    await sell(host, 5_000);
    expect((await host.run(cashOut, { flags: 0, sumKop: 5_001 })).errorCode).toBe(0x98);
    await host.ok(cashOut, { flags: 0, sumKop: 5_000 });
    expect(emulator.device.cashKop).toBe(0);
  });

  it('sell return: cash leaves the drawer, 98 when there is not enough', async () => {
    await sell(host, 5_000);
    await host.ok(openReceipt, { flags: 0, receiptType: ReceiptType.SellReturn });
    await host.ok(beginPosition, undefined);
    // Without EB flag 0x02 the register checks the drawer at the position already.
    expect((await host.run(registerPosition, position({ priceKop: 6_000 }))).errorCode).toBe(0x98);
    await host.ok(beginPosition, undefined);
    await host.ok(registerPosition, position({ priceKop: 6_000, flags: 0x02 }));
    expect(
      (await host.run(closeReceipt, { flags: 0, paymentType: PaymentType.Cash, sumKop: 0 })).errorCode,
    ).toBe(0x98);
    await host.ok(cancelReceipt, undefined);
    await host.ok(openReceipt, { flags: 0, receiptType: ReceiptType.SellReturn });
    await host.ok(beginPosition, undefined);
    await host.ok(registerPosition, position({ priceKop: 2_000 }));
    await host.ok(closeReceipt, { flags: 0, paymentType: PaymentType.Cash, sumKop: 0 });
    expect(emulator.device.cashKop).toBe(3_000);
    expect(emulator.device.printouts.at(-1)!.text).toContain('ВОЗВРАТ ПРИХОДА');
  });

  it('sell return paid back by card: EB flag 0x02 lets it through a short drawer (Crystals sets it for this)', async () => {
    await sell(host, 1_000);
    await host.ok(openReceipt, { flags: 0, receiptType: ReceiptType.SellReturn });
    await host.ok(beginPosition, undefined);
    expect((await host.run(registerPosition, position({ priceKop: 4_000 }))).errorCode).toBe(0x98);
    await host.ok(beginPosition, undefined);
    await host.ok(registerPosition, position({ priceKop: 4_000, flags: 0x02 }));
    await host.ok(closeReceipt, { flags: 0, paymentType: PaymentType.Electronically, sumKop: 0 });
    expect(emulator.device.cashKop).toBe(1_000);
  });

  it('5A: 66 outside mode 3, 9A with the shift closed', async () => {
    expect((await host.run(zReport, undefined)).errorCode).toBe(0x66);
    await host.ok(enterMode, { mode: 3, password: 30 });
    expect((await host.run(zReport, undefined)).errorCode).toBe(0x9a);
  });

  it('91: 6C for an unknown register', async () => {
    expect((await host.run(readRegister, { register: 0x7f, p1: 0, p2: 0 })).errorCode).toBe(0x6c);
    expect((await host.run(readRegister, { register: Register.CashInDrawer, p1: 0, p2: 0 })).errorCode).toBe(
      0,
    );
  });

  it('A4 45/46: DA for an unknown document and after the last chunk', async () => {
    expect((await host.run(selectDocument, { documentNumber: 1 })).errorCode).toBe(0xda);
    expect((await host.run(readDocumentChunk, undefined)).errorCode).toBe(0xda);
    await sell(host);
    await host.ok(selectDocument, { documentNumber: 1 });
    let chunks = 0;
    while ((await host.run(readDocumentChunk, undefined)).errorCode === 0) chunks++;
    expect(chunks).toBeGreaterThan(0);
    expect((await host.run(readDocumentChunk, undefined)).errorCode).toBe(0xda);
  });

  it('ED: 9C with the shift open, 20 for a time before the last document, 1F for a date that does not exist', async () => {
    await sell(host);
    const t = { year: 2020, month: 1, day: 1, hour: 12, minute: 0, second: 0 };
    expect((await host.run(setDateTime, t)).errorCode).toBe(0x9c);
    await host.ok(exitMode, undefined);
    await host.ok(enterMode, { mode: 3, password: 30 });
    await host.ok(zReport, undefined);
    await pollUntilMode(host, 3, 0);
    expect((await host.run(setDateTime, t)).errorCode).toBe(0x20);
    expect((await host.run(setDateTime, { ...t, year: 2099, month: 2, day: 30 })).errorCode).toBe(0x1f);
    await host.ok(setDateTime, { ...t, year: 2099 });
    expect(emulator.device.dateTime.startsWith('2099-01-01T12:00')).toBe(true);
  });

  it('an unknown command: 7A', async () => {
    const outcome = await host.transport.execute(Buffer.of(0x77, 0x01), 1000);
    expect(outcome.answer).toEqual(Buffer.of(0x55, 0x7a));
    expect(outcome.failed).toBe(true);
  });
});
