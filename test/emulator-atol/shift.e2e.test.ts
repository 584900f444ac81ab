import { afterEach, describe, expect, it } from 'vitest';
import {
  cashIn,
  cashOut,
  closeReceipt,
  DocumentType,
  deviceType,
  enterMode,
  exitMode,
  fnStatus,
  longStatus,
  ofdExchangeStatus,
  openShift,
  PaymentType,
  printLine,
  Register,
  readDocumentChunk,
  readRegister,
  registerValue,
  selectDocument,
  Tag,
  writeTag,
  xReport,
  zReport,
} from '../../src/drivers/atol/commands/index.js';
import { encodeCp866 } from '../../src/drivers/atol/protocol/cp866.js';
import { decodeTlvList, decodeVln, findTlv, tlvText } from '../../src/drivers/atol/protocol/tlv.js';
import {
  type AtolEmulator,
  type AtolEmulatorOptions,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { connectTcp, type TestHost } from './host.js';
import { ensureMode, openSellWithPosition, pollUntilMode, sell } from './receiptSteps.js';

/** A4 45 tells type and size; each A4 46 answers one TLV until DA. */
async function readBack(host: TestHost, number: number) {
  const header = await host.ok(selectDocument, { documentNumber: number });
  let data = Buffer.alloc(0);
  for (;;) {
    const { errorCode, result } = await host.run(readDocumentChunk, undefined);
    if (errorCode !== 0) break;
    data = Buffer.concat([data, result!]);
  }
  expect(data.length).toBe(header.size);
  return { type: header.documentType, tlvs: decodeTlvList(data) };
}

describe('shifts, reports, cash and registers', () => {
  let emulator: AtolEmulator;
  let host: TestHost;

  async function start(options: AtolEmulatorOptions = {}) {
    emulator = await startAtolEmulator({
      port: 0,
      persist: false,
      asyncLatencyMs: 1,
      zReportStepMs: 300,
      xReportMs: 300,
      ...options,
    });
    host = await connectTcp(emulator.port);
  }

  afterEach(async () => {
    await host.close();
    await emulator.close();
  });

  it('a receipt in a closed shift opens it first, and the opening takes an FD number of its own', async () => {
    await start();
    await sell(host);
    const opening = await readBack(host, 1);
    expect(opening.type).toBe(DocumentType.OpenShift);
    expect(decodeVln(findTlv(opening.tlvs, 1038)!)).toBe(1);
    const receipt = await readBack(host, 2);
    expect(receipt.type).toBe(DocumentType.Receipt);
    expect((await host.ok(fnStatus, undefined)).lastDocumentNumber).toBe(2);
    expect((await host.ok(longStatus, undefined)).flags.shiftOpen).toBe(true);
  });

  it('9A with the cashier written first: FD type 2 carries 1021; registers 0x12 and 0x35 follow the shift', async () => {
    await start({ timeZone: 'Asia/Yekaterinburg' });
    await host.ok(enterMode, { mode: 1, password: 30 });
    await host.ok(writeTag, { flags: 1, tlv: { tag: Tag.cashierName, value: encodeCp866('Петров П.П.') } });
    await host.ok(openShift, { flags: 0 });
    const opening = await readBack(host, 1);
    expect(tlvText(findTlv(opening.tlvs, 1021))).toBe('Петров П.П.');
    const info = registerValue.shiftInfo.decode(
      await host.ok(readRegister, { register: Register.ShiftInfo, p1: 0, p2: 0 }),
    );
    expect(info.shiftOpen).toBe(true);
    expect(emulator.device.shift.openedAt).toMatch(/\+05:00$/);
    const session = await host.ok(readRegister, { register: Register.SessionData, p1: 0, p2: 0 });
    expect(registerValue.sessionData.decode(session)).toBe(1);
    expect(emulator.device.printouts.at(-1)!.text).toContain('Петров П.П.');
  });

  it('Z report: 45 shows 3.2 → 7.1 → 3.0; the shift closes with FD type 5 and receipt numbers restart', async () => {
    await start();
    await sell(host);
    await sell(host);
    await ensureMode(host, 3);
    await host.ok(zReport, undefined);
    // Meanwhile the register is busy: only read-only commands are answered.
    expect((await host.run(exitMode, undefined)).errorCode).toBe(0x76);
    expect(await pollUntilMode(host, 3, 0)).toEqual(['3.2', '7.1', '3.0']);
    const closing = await readBack(host, 4);
    expect(closing.type).toBe(DocumentType.CloseShift);
    expect(decodeVln(findTlv(closing.tlvs, 1038)!)).toBe(1);
    expect(findTlv(closing.tlvs, 1077)!.length).toBe(6);
    const status = await host.ok(longStatus, undefined);
    expect(status.flags.shiftOpen).toBe(false);
    expect(status.lastClosedShiftNumber).toBe(1);
    expect(status.receiptNumber).toBe(0);
    expect(emulator.device.printouts.at(-1)!.text).toContain('ОТЧЁТ О ЗАКРЫТИИ СМЕНЫ');

    await sell(host);
    const next = await readBack(host, 6);
    expect(decodeVln(findTlv(next.tlvs, 1038)!)).toBe(2);
    expect(decodeVln(findTlv(next.tlvs, 1042)!)).toBe(1);
  });

  it('X report: 45 shows 2.2 → 2.0 and the report is printed with the shift totals', async () => {
    await start();
    await sell(host, 12_300);
    await ensureMode(host, 2);
    await host.ok(xReport, { reportType: 1 });
    expect(await pollUntilMode(host, 2, 0)).toEqual(['2.2', '2.0']);
    const report = emulator.device.printouts.at(-1)!;
    expect(report.kind).toBe('xReport');
    expect(report.text).toContain('=123.00');
    expect((await host.run(xReport, { reportType: 9 })).errorCode).toBe(0xa3);
  });

  it('cash in opens a closed shift too; cash out takes from the drawer; register 0x0A reads it', async () => {
    await start();
    await host.ok(enterMode, { mode: 1, password: 30 });
    await host.ok(cashIn, { flags: 0, sumKop: 50_000 });
    expect(emulator.device.lastDocumentNumber).toBe(1);
    await host.ok(cashOut, { flags: 0, sumKop: 12_500 });
    const drawer = await host.ok(readRegister, { register: Register.CashInDrawer, p1: 0, p2: 0 });
    expect(registerValue.cashInDrawer.decode(drawer)).toBe(37_500);
    expect(emulator.device.printouts.map((p) => p.kind)).toEqual(['openShift', 'cashIn', 'cashOut']);
    expect(emulator.device.counters).toMatchObject({ cashInKop: 50_000, cashOutKop: 12_500 });
  });

  it('a text line printed inside a receipt appears on the receipt', async () => {
    await start();
    await openSellWithPosition(host);
    await host.ok(printLine, { text: 'Спасибо за покупку!' });
    await host.ok(closeReceipt, { flags: 0, paymentType: PaymentType.Cash, sumKop: 0 });
    expect(emulator.device.printouts.at(-1)!.text).toContain('Спасибо за покупку!');
  });

  it('another model: ATOL 22Ф reports code 63 and 48 characters per line, and prints at that width', async () => {
    await start({ model: '22Ф' });
    const type = await host.ok(deviceType, undefined);
    expect(type).toMatchObject({ protocolVersion: 3, model: 63, name: 'АТОЛ 22Ф' });
    const width = await host.ok(readRegister, { register: Register.PrintSettings, p1: 0, p2: 0 });
    expect(registerValue.printSettings.decode(width)).toBe(48);
    const serial = await host.ok(readRegister, { register: Register.Serial, p1: 0, p2: 0 });
    expect(registerValue.serial.decode(serial)).toBe(emulator.device.identity.serial);
    await sell(host);
    const lines = emulator.device.printouts.at(-1)!.text.trimEnd().split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBe(48);
  });

  it('lets the OFD take documents by itself when told to', async () => {
    await start({ ofdAutoDrainMs: 20 });
    await sell(host);
    expect(emulator.device.lastDocumentNumber).toBe(2);
    const deadline = Date.now() + 2000;
    while (emulator.device.ofd.unsentCount > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect((await host.ok(ofdExchangeStatus, undefined)).unsentCount).toBe(0);
  });
});
