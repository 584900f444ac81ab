import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  closeReceipt,
  cut,
  enterMode,
  exitMode,
  fnStatus,
  longStatus,
  OpenReceiptFlags,
  ofdExchangeStatus,
  openReceipt,
  openShift,
  PaymentType,
  printLine,
  ReceiptType,
  Register,
  readRegister,
  registerValue,
  shortStatus,
  zReport,
} from '../../src/drivers/atol/commands/index.js';
import { AtolTransportError } from '../../src/drivers/atol/transport/errors.js';
import { type AtolEmulator, type FaultEvent, startAtolEmulator } from '../../src/emulators/atol/index.js';
import { connectTcp, type TestHost } from './host.js';
import { openSellWithPosition, pollUntilMode, sell } from './receiptSteps.js';

const DAY_MS = 24 * 3600 * 1000;

describe('faults on demand', () => {
  let emulator: AtolEmulator;
  let host: TestHost;
  let dir: string;
  const faults: FaultEvent[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kkt-emu-faults-'));
    emulator = await startAtolEmulator({
      port: 0,
      stateFile: join(dir, 'state.json'),
      journalFile: join(dir, 'journal.jsonl'),
      asyncLatencyMs: 1,
      zReportStepMs: 5,
    });
    faults.length = 0;
    emulator.on('fault', (event) => faults.push(event));
    host = await connectTcp(emulator.port);
  });

  afterEach(async () => {
    await host.close();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('no paper: 45 flag b0, 3F paper flag cleared, 67 on printing; the receipt stays open and unsigned', async () => {
    await openSellWithPosition(host);
    emulator.setFault('noPaper');
    expect((await host.ok(shortStatus, undefined)).printer.noPaper).toBe(true);
    expect((await host.ok(longStatus, undefined)).flags.paperPresent).toBe(false);
    expect((await host.run(printLine, { text: 'Спасибо!' })).errorCode).toBe(0x67);
    expect(
      (await host.run(closeReceipt, { flags: 0, paymentType: PaymentType.Cash, sumKop: 0 })).errorCode,
    ).toBe(0x67);
    expect((await host.ok(longStatus, undefined)).receiptState).toBe(ReceiptType.Sell);
    expect((await host.ok(fnStatus, undefined)).lastDocumentNumber).toBe(1);
    emulator.clearFaults();
    await host.ok(closeReceipt, { flags: 0, paymentType: PaymentType.Cash, sumKop: 0 });
    expect((await host.ok(fnStatus, undefined)).lastDocumentNumber).toBe(2);
  });

  it('no paper does not stop an electronic-only receipt, which is not printed', async () => {
    await host.ok(enterMode, { mode: 1, password: 30 });
    await host.ok(openShift, { flags: 0 });
    emulator.setFault('noPaper');
    const printed = emulator.device.printouts.length;
    await host.ok(openReceipt, { flags: OpenReceiptFlags.Electronic, receiptType: ReceiptType.Sell });
    await host.ok(closeReceipt, { flags: 0, paymentType: PaymentType.Electronically, sumKop: 0 });
    expect(emulator.device.lastDocumentNumber).toBe(2);
    expect(emulator.device.printouts).toHaveLength(printed);
  });

  it('cover open: 3F flag b5 and 67 on printing', async () => {
    emulator.setFault('coverOpen');
    expect((await host.ok(longStatus, undefined)).flags.coverOpen).toBe(true);
    expect((await host.run(cut, { cutType: 0 })).errorCode).toBe(0x67);
    emulator.setFault('coverOpen', false);
    await host.ok(printLine, { text: 'Строка' });
    await host.ok(cut, { cutType: 0 });
    expect(emulator.device.printouts.at(-1)).toMatchObject({ kind: 'text', text: 'Строка\n' });
  });

  it('shift expired: the shift was opened 25 h ago, receipts answer 88 until a Z report', async () => {
    emulator.setFault('shiftExpired');
    expect(emulator.device.shift).toMatchObject({ open: true, expired: true, number: 1 });
    await host.ok(enterMode, { mode: 1, password: 30 });
    expect((await host.run(openReceipt, { flags: 0, receiptType: 1 })).errorCode).toBe(0x88);
    await host.ok(exitMode, undefined);
    await host.ok(enterMode, { mode: 3, password: 30 });
    await host.ok(zReport, undefined);
    await pollUntilMode(host, 3, 0);
    await host.ok(exitMode, undefined);
    await sell(host);
    expect(emulator.device.shift).toMatchObject({ open: true, expired: false, number: 2 });
  });

  it('FN full: D8 on documents, memory warning in A4 30', async () => {
    emulator.setFault('fnFull');
    await host.ok(enterMode, { mode: 1, password: 30 });
    expect((await host.run(openReceipt, { flags: 0, receiptType: 1 })).errorCode).toBe(0xd8);
    expect((await host.run(openShift, { flags: 0 })).errorCode).toBe(0xd8);
    expect((await host.ok(fnStatus, undefined)).warnings.memoryOverflow).toBe(true);
    emulator.clearFaults();
    await host.ok(openShift, { flags: 0 });
  });

  it('OFD backlog: ED on fiscal commands, as a fault and once the oldest unsent FD is 30 days old', async () => {
    emulator.setFault('ofdBacklog');
    await host.ok(enterMode, { mode: 1, password: 30 });
    expect((await host.run(openReceipt, { flags: 0, receiptType: 1 })).errorCode).toBe(0xed);
    emulator.clearFaults();

    await sell(host);
    await host.ok(exitMode, undefined);
    await host.ok(enterMode, { mode: 3, password: 30 });
    await host.ok(zReport, undefined);
    await pollUntilMode(host, 3, 0);
    const ofd = await host.ok(ofdExchangeStatus, undefined);
    expect(ofd).toMatchObject({ unsentCount: 3, firstUnsentDocumentNumber: 1 });
    const unsent = await host.ok(readRegister, { register: Register.UnsentOfdDocuments, p1: 0, p2: 0 });
    expect(registerValue.unsentOfdDocuments.decode(unsent)).toBe(3);

    emulator.advanceClock(31 * DAY_MS);
    await host.ok(exitMode, undefined);
    await host.ok(enterMode, { mode: 1, password: 30 });
    expect((await host.run(openShift, { flags: 0 })).errorCode).toBe(0xed);
    expect((await host.ok(fnStatus, undefined)).warnings.ofdTimeout).toBe(true);
    emulator.drainOfd();
    expect((await host.ok(ofdExchangeStatus, undefined)).unsentCount).toBe(0);
    await host.ok(openShift, { flags: 0 });
  });

  it('a slow register: answers later than the host waits, and the host gets them with Req', async () => {
    emulator.setFault('slowMs', 700);
    const before = host.transport.stats.roundTrips;
    expect((await host.ok(shortStatus, undefined)).mode).toBe(0);
    // Add went unanswered in time, then Req said "in progress" and later returned the result.
    expect(host.transport.stats.roundTrips - before).toBeGreaterThan(2);
  });

  it('drop on a command: the link goes down and the command never runs', async () => {
    await openSellWithPosition(host);
    emulator.setFault('dropOnCommand', '4A');
    const failure = await host
      .run(closeReceipt, { flags: 0, paymentType: PaymentType.Cash, sumKop: 0 })
      .catch((e) => e);
    expect(failure).toBeInstanceOf(AtolTransportError);
    expect(faults.map((f) => f.name)).toEqual(['dropOnCommand']);
    const again = await connectTcp(emulator.port);
    try {
      expect((await again.ok(fnStatus, undefined)).lastDocumentNumber).toBe(1);
      expect((await again.ok(longStatus, undefined)).receiptState).toBe(ReceiptType.Sell);
    } finally {
      await again.close();
    }
  });

  it('execute then drop: 4A makes its FD and journal line, the host never hears back', async () => {
    const answered: string[] = [];
    emulator.on('command', (event) => answered.push(event.code));
    await openSellWithPosition(host);
    emulator.setFault('executeThenDrop');
    const failure = await host
      .run(closeReceipt, { flags: 0, paymentType: PaymentType.Cash, sumKop: 0 })
      .catch((e) => e);
    expect(failure).toBeInstanceOf(AtolTransportError);
    expect((failure as AtolTransportError).outcome).toBe('unknown');
    expect(answered).not.toContain('4A');

    const again = await connectTcp(emulator.port);
    try {
      expect((await again.ok(fnStatus, undefined)).lastDocumentNumber).toBe(2);
      expect((await again.ok(longStatus, undefined)).receiptState).toBe(0);
    } finally {
      await again.close();
    }
    const lines = (await readFile(join(dir, 'journal.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.kind === 'receipt')).toHaveLength(1);
    expect(lines.map((l) => l.documentNumber)).toEqual([1, 2]);
  });

  it('drop after the N-th command: that command is answered, then the link goes down', async () => {
    emulator.setFault('dropAfterCommands', 2);
    const down = new Promise((resolve) => emulator.once('disconnect', resolve));
    await host.ok(shortStatus, undefined);
    await host.ok(longStatus, undefined);
    await down;
    await expect(host.run(shortStatus, undefined)).rejects.toBeInstanceOf(AtolTransportError);
  });

  it('a corrupted frame is survived: the host asks again with Req and gets the answer', async () => {
    await host.ok(enterMode, { mode: 1, password: 30 });
    emulator.setFault('corruptNextFrame');
    expect((await host.ok(shortStatus, undefined)).mode).toBe(1);
    expect(host.transport.stats.framesRejected).toBe(1);
    expect(faults.map((f) => f.name)).toEqual(['corruptNextFrame']);
  });

  it('silent: no answer on any connection while the link stays open; nothing runs; answers again once cleared', async () => {
    const answered: string[] = [];
    emulator.on('command', (event) => answered.push(event.code));
    emulator.setFault('silent');
    const failure = await host.run(shortStatus, undefined).catch((e) => e);
    expect(failure).toMatchObject({ code: 'KKT_NO_ANSWER' });
    expect(host.transport.isOpen).toBe(true);
    const other = await connectTcp(emulator.port);
    try {
      expect(await other.run(shortStatus, undefined).catch((e) => e)).toMatchObject({
        code: 'KKT_NO_ANSWER',
      });
      expect(answered).toEqual([]);
      emulator.setFault('silent', false);
      expect((await other.ok(shortStatus, undefined)).mode).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('deaf connection: this connection stops answering and stays open; a new one is answered', async () => {
    expect((await host.ok(shortStatus, undefined)).mode).toBe(0);
    emulator.setFault('deafConnection');
    expect(faults.map((f) => f.name)).toEqual(['deafConnection']);
    expect(await host.run(shortStatus, undefined).catch((e) => e)).toMatchObject({ code: 'KKT_NO_ANSWER' });
    expect(emulator.connected).toBe(true);
    const again = await connectTcp(emulator.port);
    try {
      expect((await again.ok(shortStatus, undefined)).mode).toBe(0);
    } finally {
      await again.close();
    }
  });
});
