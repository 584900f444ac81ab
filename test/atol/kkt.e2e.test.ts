import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KktNotConnectedError } from '../../src/drivers/atol/errors.js';
import { Kkt } from '../../src/drivers/atol/kkt.js';
import { KktDeviceError } from '../../src/drivers/atol/protocol/deviceErrors.js';
import { decodeTlvList } from '../../src/drivers/atol/protocol/tlv.js';
import type { ReceiptInput } from '../../src/drivers/atol/receipt.js';
import { positionAmountKop } from '../../src/drivers/atol/receipt.js';
import { SerialLink } from '../../src/drivers/atol/transport/serialLink.js';
import { TcpLink } from '../../src/drivers/atol/transport/tcpLink.js';
import {
  type AtolEmulator,
  type AtolEmulatorOptions,
  type CommandEvent,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { ValidationError } from '../../src/lib/errors.js';
import { startSocatPty } from '../support/socat.js';

const TZ = 'Europe/Moscow';
let emulator: AtolEmulator;
let kkt: Kkt;
let documents: JournalEntry[];
let commands: CommandEvent[];

async function startEmulator(options: Partial<AtolEmulatorOptions> = {}) {
  emulator = await startAtolEmulator({
    port: 0,
    persist: false,
    timeZone: TZ,
    asyncLatencyMs: 5,
    zReportStepMs: 40,
    xReportMs: 40,
    ...options,
  });
  documents = [];
  commands = [];
  emulator.on('document', (entry) => documents.push(entry));
  emulator.on('command', (event) => commands.push(event));
}

function tcpKkt(options: Partial<ConstructorParameters<typeof Kkt>[0]> = {}) {
  return new Kkt({
    link: () => new TcpLink({ host: '127.0.0.1', port: emulator.port }),
    timeZone: TZ,
    statusPollIntervalMs: 20,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    // The emulator's bytes for the 2026 rates; no public source gives a real register's.
    taxBytes: EMULATOR_EXTRA_TAX_BYTES,
    ...options,
  });
}

const position = (name: string, priceKop: number, quantityMilli: number, tax: string, unit = 'piece') => ({
  type: 'position' as const,
  name,
  priceKop,
  quantityMilli,
  amountKop: positionAmountKop(priceKop, quantityMilli),
  tax: { type: tax as 'vat20' },
  measurementUnit: unit as 'piece',
});

/** Ten positions mixing VAT 5 %, 7 %, 10 %, 20 %, 22 %, none and 0 %, pieces, grams and kilograms. */
const TEN_POSITIONS = [
  position('Чай улун, развес', 1235, 85_000, 'vat5', 'gram'),
  position('Кофе в зёрнах', 21550, 3000, 'vat7'),
  position('Сыр, кг', 89900, 1254, 'vat10', 'kilogram'),
  position('Шоколад №1', 603, 1000, 'vat20'),
  position('Вода 0,5 л', 9999, 1000, 'vat22'),
  position('Крем / Cream, 50 мл', 344271, 1000, 'none'),
  position('Книга', 45000, 2000, 'vat0'),
  position('Орехи, развес', 1990, 250_000, 'vat22', 'gram'),
  position('Яблоки', 14990, 1500, 'vat5', 'kilogram'),
  position('Пакет', 500, 1000, 'vat20'),
];

const total = (items: Array<{ amountKop: number }>) => items.reduce((sum, item) => sum + item.amountKop, 0);

function receipt(items = TEN_POSITIONS): Omit<ReceiptInput, 'type'> {
  return {
    taxationType: 'osn',
    operator: { name: 'Иванова А.С.', vatin: '500100732259' },
    items,
    payments: [{ type: 'electronically', sumKop: total(items) }],
    marker: 'job-0001',
  };
}

describe('Kkt against the emulator over TCP', () => {
  beforeEach(async () => {
    await startEmulator();
    kkt = tcpKkt();
    await kkt.connect();
  });

  afterEach(async () => {
    await kkt.close();
    await emulator.close();
  });

  it('identifies the register and reads its status and FN', async () => {
    const info = await kkt.deviceInfo();
    expect(info).toMatchObject({ model: 61, platform: '2.5', lineWidth: 32 });
    expect(info.serial).toMatch(/^\d{14}$/);
    const status = await kkt.status();
    expect(status.shift.state).toBe('closed');
    expect(status.receipt.open).toBe(false);
    expect(status.paper.present).toBe(true);
    const fn = await kkt.fnInfo();
    expect(fn.serial).toMatch(/^\d{16}$/);
    expect(fn.lastDocumentNumber).toBe(emulator.device.lastDocumentNumber);
  });

  it('prints a 10-position receipt mixing VAT rates and weighed goods, and reads back its fiscal data', async () => {
    const shift = await kkt.openShift({ name: 'Иванова А.С.' });
    const result = await kkt.sell(receipt());
    const document = documents.at(-1)!;
    expect(result).toMatchObject({
      fiscalDocumentNumber: document.documentNumber,
      fiscalSign: document.fiscalSign,
      shiftNumber: shift.shiftNumber,
      receiptNumber: 1,
      totalKop: total(TEN_POSITIONS),
    });
    expect(result.dateTime).toBe(document.dateTime);
    expect(result.dateTime).toMatch(/\+03:00$/);
    expect(document.marker).toBe('job-0001');
    expect(document.items?.map((item) => [item.name, item.quantityMilli])).toEqual(
      TEN_POSITIONS.map((p) => [p.name, p.quantityMilli]),
    );
    expect(document.totalKop).toBe(total(TEN_POSITIONS));
    const last = await kkt.lastDocument();
    expect(last).toMatchObject({
      fiscalDocumentNumber: result.fiscalDocumentNumber,
      documentType: 3,
      marker: 'job-0001',
      totalKop: result.totalKop,
    });
  });

  it('costs at most 48 host frames for a 10-position receipt (C1 flags 0 where no answer is read)', async () => {
    await kkt.openShift({ name: 'Иванова А.С.' });
    await kkt.sell(receipt());
    const before = kkt.stats!.transport;
    await kkt.sell({ ...receipt(), marker: 'job-0002' });
    const after = kkt.stats!.transport;
    expect(after.framesSent - before.framesSent).toBeLessThanOrEqual(48);
    expect(after.postedCommands - before.postedCommands).toBeGreaterThanOrEqual(20);
  });

  it('prints an FFD 1.05 register its own form of the receipt: no 2108', async () => {
    await kkt.close();
    await emulator.close();
    await startEmulator({ ffdVersion: 2 });
    kkt = tcpKkt();
    await kkt.connect();
    expect(kkt.receiptForm).toMatchObject({ ffdVersion: 2, ffdName: '1.05', positionTags: [] });
    await kkt.sell(receipt());
    const document = emulator.device.document(documents.at(-1)!.documentNumber)!;
    const positions = document.tlvs.filter((t) => t.tag === 1059);
    expect(positions).toHaveLength(10);
    for (const position of positions)
      expect(decodeTlvList(position.value).map((t) => t.tag)).not.toContain(2108);
  });

  it('opens a closed shift implicitly with the first receipt (one extra document)', async () => {
    const before = emulator.device.lastDocumentNumber;
    const result = await kkt.sell(receipt(TEN_POSITIONS.slice(0, 2)));
    expect(result.fiscalDocumentNumber).toBe(before + 2);
    expect(documents.map((d) => d.kind)).toEqual(['openShift', 'receipt']);
  });

  it('prints a sell return, cash in and out, an X report and a Z report', async () => {
    await kkt.openShift();
    const sale = await kkt.sell({
      ...receipt(TEN_POSITIONS.slice(0, 3)),
      payments: [{ type: 'cash', sumKop: 10_000_000 }],
    });
    const back = await kkt.sellReturn({
      ...receipt(TEN_POSITIONS.slice(0, 1)),
      payments: [{ type: 'cash', sumKop: TEN_POSITIONS[0]!.amountKop }],
      marker: 'ret-1',
    });
    expect(back.fiscalDocumentNumber).toBe(sale.fiscalDocumentNumber + 1);
    expect(documents.at(-1)?.receiptType).toBe(2);
    const drawerAfterSales = emulator.device.cashKop;
    await kkt.cashIn(150_000);
    await kkt.cashOut(50_000);
    expect(emulator.device.cashKop).toBe(drawerAfterSales + 100_000);
    await expect(kkt.cashOut(emulator.device.cashKop + 1)).rejects.toMatchObject({ code: 'KKT_NO_CASH' });
    await kkt.reportX();
    const z = await kkt.closeShift();
    expect(z.shiftNumber).toBe(sale.shiftNumber);
    expect(documents.at(-1)?.kind).toBe('closeShift');
    expect((await kkt.status()).shift.state).toBe('closed');
  });

  it('rejects bad receipts before a single byte is sent', async () => {
    const sent = commands.length;
    await expect(kkt.sell({ ...receipt(), payments: [{ type: 'cash', sumKop: 1 }] })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(kkt.sell(receipt([position('x'.repeat(129), 100, 1000, 'vat20')]))).rejects.toMatchObject({
      field: 'items[0].name',
    });
    await expect(kkt.sell(receipt([position('x', 100, 0, 'vat20')]))).rejects.toMatchObject({
      field: 'items[0].quantityMilli',
    });
    await expect(kkt.sell(receipt([position('x', 100, 1000, 'vat18')]))).rejects.toMatchObject({
      field: 'items[0].tax.type',
    });
    expect(commands.length).toBe(sent);
  });

  it('cancels a receipt left open and reports whether one was', async () => {
    expect(await kkt.cancelOpenReceipt()).toBe(false);
    emulator.setFault('dropOnCommand', '4A');
    await expect(kkt.sell(receipt())).rejects.toMatchObject({ outcome: 'unknown' });
    await kkt.connect();
    expect((await kkt.status()).receipt.open).toBe(true);
    expect(await kkt.cancelOpenReceipt()).toBe(true);
    expect(documents.filter((d) => d.kind === 'receipt')).toHaveLength(0);
  });
});

describe('faults give typed errors', () => {
  beforeEach(async () => {
    await startEmulator();
    kkt = tcpKkt();
    await kkt.connect();
    await kkt.openShift();
  });

  afterEach(async () => {
    await kkt.close();
    await emulator.close();
  });

  const sellFails = async () => {
    const error = await kkt.sell(receipt()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KktDeviceError);
    return error as KktDeviceError;
  };

  it.each([
    ['noPaper', 'KKT_NO_PAPER', 'printer'],
    ['coverOpen', 'KKT_NO_PAPER', 'printer'],
    ['fnFull', 'KKT_FN_FULL', 'fn'],
    ['ofdBacklog', 'KKT_FN_UNSENT_DOCUMENTS', 'fn'],
  ] as const)('%s → %s, nothing fiscalized, the register left clean', async (fault, code, kind) => {
    emulator.setFault(fault);
    const error = await sellFails();
    expect(error).toMatchObject({ code, kind });
    expect(documents.filter((d) => d.kind === 'receipt')).toHaveLength(0);
    emulator.clearFaults();
    expect((await kkt.status()).receipt.open).toBe(false);
    await expect(kkt.sell(receipt())).resolves.toMatchObject({ totalKop: total(TEN_POSITIONS) });
  });

  it('a register that refuses a tax byte (a firmware without the rate) → KKT_EXT_BAD_TAX, nothing fiscalized', async () => {
    emulator.setFault('refuseTaxCode', 13);
    const error = await sellFails();
    expect(error).toMatchObject({ code: 'KKT_EXT_BAD_TAX', deviceCode: 0xee, extendedCode: 0x0104 });
    expect(documents.filter((d) => d.kind === 'receipt')).toHaveLength(0);
    expect((await kkt.status()).receipt.open).toBe(false);
  });

  it('a posted command the register refuses (E8 outside its FFD form) stops the receipt before the close', async () => {
    // 2108 is written posted after EA; the register refuses it and the position's EB reports it.
    await emulator.close();
    await startEmulator({ ffdVersion: 2 });
    await kkt.close();
    kkt = tcpKkt();
    await kkt.connect();
    const forced = kkt as unknown as { info: { ffdVersion: { kkt: number; fn: number } } };
    forced.info.ffdVersion = { kkt: 4, fn: 4 };
    const error = await sellFails();
    expect(error).toMatchObject({ code: 'KKT_EXT_TAG_COMBINATION', extendedCode: 0x0205 });
    expect(documents.filter((d) => d.kind === 'receipt')).toHaveLength(0);
    expect((await kkt.status()).receipt.open).toBe(false);
  });

  it('a close refused after the FD was made (paper ran out mid-print) is an unknown outcome, never a refusal', async () => {
    emulator.setFault('executeThenFail', '4A');
    const error = await kkt.sell(receipt()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KKT_OUTCOME_UNKNOWN', outcome: 'unknown' });
    expect(documents.filter((d) => d.kind === 'receipt')).toHaveLength(1);
    expect((await kkt.lastDocument()).marker).toBe('job-0001');
  });

  it('shift expired → KKT_SHIFT_EXPIRED, and a Z report clears it', async () => {
    emulator.setFault('shiftExpired');
    expect((await kkt.status()).shift.state).toBe('expired');
    expect(await sellFails()).toMatchObject({ code: 'KKT_SHIFT_EXPIRED' });
    await kkt.closeShift();
    await expect(kkt.sell(receipt())).resolves.toMatchObject({ receiptNumber: 1 });
  });

  it('survives a slow register and a corrupted frame', async () => {
    emulator.setFault('slowMs', 150);
    await expect(kkt.sell(receipt(TEN_POSITIONS.slice(0, 1)))).resolves.toBeDefined();
    emulator.setFault('slowMs', 0);
    emulator.setFault('corruptNextFrame');
    const status = await kkt.status();
    expect(status.mode).toBe(1);
    expect(kkt.stats?.transport.framesRejected).toBeGreaterThanOrEqual(1);
  });

  it('a link dropped after the register made the FD leaves the outcome unknown; the FD is there on reconnect', async () => {
    emulator.setFault('executeThenDrop', '4A');
    const before = emulator.device.lastDocumentNumber;
    const error = await kkt.sell(receipt()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KKT_OUTCOME_UNKNOWN', outcome: 'unknown' });
    await new Promise<void>((resolve) => kkt.once('connected', () => resolve()));
    const last = await kkt.lastDocument();
    expect(last).toMatchObject({ fiscalDocumentNumber: before + 1, marker: 'job-0001' });
    expect(documents.filter((d) => d.kind === 'receipt')).toHaveLength(1);
  });
});

describe('reconnect', () => {
  beforeEach(startEmulator);
  afterEach(async () => {
    await kkt.close();
    await emulator.close();
  });

  it('reconnects after the link drops, with backoff, and refuses work while down', async () => {
    kkt = tcpKkt();
    const events: string[] = [];
    kkt.on('connected', () => events.push('connected'));
    kkt.on('disconnected', () => events.push('disconnected'));
    await kkt.connect();
    emulator.dropConnection();
    await new Promise<void>((resolve) => kkt.once('disconnected', () => resolve()));
    await expect(kkt.status()).rejects.toBeInstanceOf(KktNotConnectedError);
    await new Promise<void>((resolve) => kkt.once('connected', () => resolve()));
    expect(events).toEqual(['connected', 'disconnected', 'connected']);
    await expect(kkt.status()).resolves.toMatchObject({ mode: expect.any(Number) });
  });

  it('keeps trying when the register is not there at start', async () => {
    const port = emulator.port;
    await emulator.close();
    kkt = tcpKkt({ link: () => new TcpLink({ host: '127.0.0.1', port, connectTimeoutMs: 200 }) });
    await expect(kkt.start()).rejects.toBeDefined();
    emulator = await startAtolEmulator({ port, persist: false, timeZone: TZ });
    await new Promise<void>((resolve) => kkt.once('connected', () => resolve()));
    expect(kkt.isConnected).toBe(true);
  });
});

describe('over a pseudo-terminal (the real serialport code path)', () => {
  it('prints a receipt through socat and SerialLink', async () => {
    await startEmulator();
    const pty = await startSocatPty({ port: emulator.port });
    kkt = new Kkt({
      link: () => new SerialLink({ path: pty.path, baudRate: 115200 }),
      timeZone: TZ,
      reconnect: { enabled: false },
      taxBytes: EMULATOR_EXTRA_TAX_BYTES,
    });
    try {
      await kkt.connect();
      const result = await kkt.sell(receipt());
      expect(result.totalKop).toBe(total(TEN_POSITIONS));
      expect(documents.at(-1)).toMatchObject({ kind: 'receipt', marker: 'job-0001' });
    } finally {
      await kkt.close();
      await pty.stop();
      await emulator.close();
    }
  });
});
