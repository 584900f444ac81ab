import { afterEach, describe, expect, it } from 'vitest';
import { Kkt, type KktOptions } from '../../src/drivers/atol/kkt.js';
import type { SelfTestPlan } from '../../src/drivers/atol/selfTest.js';
import { TAX_TYPES } from '../../src/drivers/atol/taxBytes.js';
import { TcpLink } from '../../src/drivers/atol/transport/tcpLink.js';
import {
  type AtolEmulator,
  type AtolEmulatorOptions,
  type CommandEvent,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';

const TZ = 'Europe/Moscow';
let emulator: AtolEmulator | undefined;
let kkt: Kkt | undefined;

afterEach(async () => {
  await kkt?.close();
  await emulator?.close();
  kkt = undefined;
  emulator = undefined;
});

async function start(options: Partial<AtolEmulatorOptions> = {}, kktOptions: Partial<KktOptions> = {}) {
  emulator = await startAtolEmulator({
    port: 0,
    persist: false,
    timeZone: TZ,
    asyncLatencyMs: 5,
    ...options,
  });
  const port = emulator.port;
  kkt = new Kkt({
    link: () => new TcpLink({ host: '127.0.0.1', port }),
    timeZone: TZ,
    reconnect: { enabled: false },
    ...kktOptions,
  });
  await kkt.connect();
  const documents: JournalEntry[] = [];
  const commands: CommandEvent[] = [];
  emulator.on('document', (entry) => documents.push(entry));
  emulator.on('command', (event) => commands.push(event));
  return { emulator, kkt, documents, commands };
}

const PLAN: SelfTestPlan = {
  rates: TAX_TYPES,
  operator: { name: 'Кассир Смена 1', vatin: '500100732259' },
  taxationType: 'usnIncome',
};

/** The FN as the emulator keeps it: every document's number, type and TLVs. */
const archiveOf = (e: AtolEmulator) => JSON.stringify(e.device.documents);

describe('the self-test on the emulated register', () => {
  it('probes every rate and tag inside a cancelled receipt: the FD counter and the FN archive do not change', async () => {
    const { emulator, kkt, documents, commands } = await start();
    await kkt.openShift({ name: 'Кассир Смена 1' });
    const before = { last: emulator.device.lastDocumentNumber, archive: archiveOf(emulator) };
    documents.length = 0;
    commands.length = 0;

    const report = await kkt.selfTest(PLAN);

    expect(documents).toEqual([]);
    expect(emulator.device.lastDocumentNumber).toBe(before.last);
    expect(archiveOf(emulator)).toBe(before.archive);
    expect(emulator.device.receipt).toBeUndefined();
    expect(report.fiscalDocuments).toEqual({ before: before.last, after: before.last });
    expect(report.skipped).toBeUndefined();
    expect(report.interrupted).toBeUndefined();
    // Opened not to be printed, cancelled at the end; never closed.
    const codes = commands.map((c) => c.code);
    expect(codes.filter((c) => c === '92')).toHaveLength(1);
    expect(codes.at(-2)).toBe('59');
    expect(codes).not.toContain('4A');
    expect(codes).not.toContain('9A');

    const tags = report.probes.filter((p) => p.kind === 'tag');
    expect(tags.map((p) => [p.tag, p.verdict])).toEqual([
      [1021, 'accepted'],
      [1203, 'accepted'],
      [1055, 'accepted'],
      [1008, 'accepted'],
      [1256, 'accepted'],
      [1192, 'accepted'],
      [2108, 'accepted'],
    ]);
    const rates = Object.fromEntries(
      report.probes.filter((p) => p.kind === 'rate').map((p) => [p.rate, [p.byte, p.byteOrigin, p.verdict]]),
    );
    expect(rates['vat20']).toEqual([1, 'platform 2.5, any firmware', 'accepted']);
    expect(rates['none']).toEqual([6, 'platform 2.5, any firmware', 'accepted']);
    // No byte configured: the candidate (ATOL's driver numbering) is tried, and the emulator takes it.
    expect(rates['vat22']).toEqual([13, 'candidate', 'accepted']);
    expect(rates['vat105']).toEqual([11, 'candidate', 'accepted']);
    expect(report.probes.find((p) => p.rate === 'vat22')?.note).toMatch(/set taxBytes\.vat22: 13/);
  });

  it('reports the rate a register refuses, with its own error text, and goes on with the others', async () => {
    const { emulator, kkt } = await start(
      { faults: { refuseTaxCode: 13 } },
      { taxBytes: EMULATOR_EXTRA_TAX_BYTES },
    );
    await kkt.openShift();
    const last = emulator.device.lastDocumentNumber;

    const report = await kkt.selfTest(PLAN);

    const vat22 = report.probes.find((p) => p.rate === 'vat22');
    expect(vat22).toMatchObject({ byte: 13, byteOrigin: 'config', verdict: 'refused' });
    expect(vat22?.error).toMatchObject({
      code: 'KKT_EXT_BAD_TAX',
      deviceCode: 0xee,
      extendedCode: 0x0104,
      deviceText: 'Неверный номер налога',
    });
    const others = report.probes.filter((p) => p.kind === 'rate' && p.rate !== 'vat22');
    expect(others.every((p) => p.verdict === 'accepted')).toBe(true);
    expect(emulator.device.lastDocumentNumber).toBe(last);
    expect(emulator.device.receipt).toBeUndefined();
  });

  it('with no shift open it probes nothing and asks for --open-shift', async () => {
    const { emulator, kkt, commands } = await start();
    const last = emulator.device.lastDocumentNumber;

    const report = await kkt.selfTest(PLAN);

    expect(report.skipped?.code).toBe('SHIFT_CLOSED');
    expect(report.skipped?.reason).toMatch(/--open-shift/);
    expect(report.probes).toEqual([]);
    expect(commands.map((c) => c.code)).not.toContain('92');
    expect(emulator.device.shift.open).toBe(false);
    expect(emulator.device.lastDocumentNumber).toBe(last);
  });

  it('opens the shift when asked: exactly one fiscal document, the shift-open report', async () => {
    const { emulator, kkt, documents } = await start();
    const last = emulator.device.lastDocumentNumber;

    const report = await kkt.selfTest({ ...PLAN, openShift: true });

    expect(documents.map((d) => d.kind)).toEqual(['openShift']);
    expect(report.shiftOpened?.fiscalDocumentNumber).toBe(last + 1);
    expect(report.fiscalDocuments).toEqual({ before: last, after: last + 1 });
    expect(report.probes.length).toBeGreaterThan(0);
  });

  it('on an FFD 1.05 register probes 1227 and 1228 as receipt tags and no 2108', async () => {
    const { kkt } = await start({ ffdVersion: 2 });
    await kkt.openShift();

    const report = await kkt.selfTest(PLAN);

    const tags = report.probes.filter((p) => p.kind === 'tag').map((p) => p.tag);
    expect(tags).toEqual([1021, 1203, 1055, 1008, 1227, 1228, 1192]);
    expect(report.ffd).toEqual({ version: 2, name: '1.05' });
    expect(report.probes.filter((p) => p.verdict !== 'accepted')).toEqual([]);
  });

  it('leaves an open receipt alone and says so', async () => {
    const { emulator, kkt } = await start();
    await kkt.openShift();
    // A receipt someone left open (opened by hand on the emulated register).
    await emulator.executeCommand(Buffer.from('5601 00000030'.replace(' ', ''), 'hex'));
    await emulator.executeCommand(Buffer.of(0x92, 0x00, 0x01));
    expect(emulator.device.receipt).toBeDefined();

    const report = await kkt.selfTest(PLAN);

    expect(report.skipped?.code).toBe('RECEIPT_OPEN');
    expect(emulator.device.receipt).toBeDefined();
  });
});
