import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { AtolDevice } from '../../src/agent/devices/atol/atolDevice.js';
import type { DoctorReport } from '../../src/agent/devices/doctorReport.js';
import { Doctor } from '../../src/agent/doctor/doctor.js';
import { buildBill, buildPosition } from '../../src/agent/domain/bill.js';
import type { Job } from '../../src/agent/jobs/job.js';
import { TcpLink } from '../../src/drivers/atol/transport/tcpLink.js';
import {
  type AtolEmulator,
  type AtolEmulatorOptions,
  type CommandEvent,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { sampleBill } from '../support/bills.js';
import { until } from '../support/until.js';

const TZ = 'Europe/Moscow';
const logger = pino({ level: 'silent' });
let dir: string;
let emulator: AtolEmulator;
let agent: Agent | undefined;
let documents: JournalEntry[];
let commands: CommandEvent[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-doctor-'));
});

afterEach(async () => {
  await agent?.stop().catch(() => undefined);
  agent = undefined;
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

async function startEmulator(options: Partial<AtolEmulatorOptions> = {}) {
  emulator = await startAtolEmulator({
    port: 0,
    persist: false,
    timeZone: TZ,
    asyncLatencyMs: 5,
    ...options,
  });
  documents = [];
  commands = [];
  emulator.on('document', (entry) => documents.push(entry));
  emulator.on('command', (event) => commands.push(event));
}

function atolDevice(taxBytes: Record<string, number> = EMULATOR_EXTRA_TAX_BYTES) {
  const port = emulator.port;
  return new AtolDevice({
    id: 'kkt1',
    link: () => new TcpLink({ host: '127.0.0.1', port }),
    timeZone: TZ,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    taxBytes,
    receiptDefaults: { operator: { name: 'Кассир' } },
    logger,
  });
}

async function openAgent(device = atolDevice()) {
  agent = await Agent.open({
    dataDir: dir,
    logger,
    devices: [device],
    connectors: [],
    router: () => device.id,
    fiscalizer: { retryDelayMs: 10, maxRetryDelayMs: 20, maxAttempts: 3, stopTimeoutMs: 2000 },
  });
  await agent.start();
  await until(() => device.ready, 'device ready');
  return { agent, device };
}

const billAt = (
  billId: string,
  vat: 'vat22' | 'vat10',
  extra: Partial<Parameters<typeof buildBill>[0]> = {},
) =>
  buildBill({
    source: 'test',
    account: 'a1',
    billId,
    number: billId,
    currency: 'RUB',
    positions: [buildPosition({ name: 'Чай', priceMinor: 10_000, quantityMilli: 1000, unit: 'piece', vat })],
    payments: 'cash',
    ...extra,
  });

describe('the doctor in the agent', () => {
  it('keeps the last report and refuses at intake a bill at a rate the register refused, naming the field', async () => {
    await startEmulator({ faults: { refuseTaxCode: 13 } });
    const { agent } = await openAgent();
    await agent.deviceOperation('kkt1', (d) => d.openShift());
    const [report] = await agent.runDoctor({});
    expect(report?.probes).toBe('done');
    const vat22 = report?.findings.find((f) => f.feature === 'vat:vat22');
    expect(vat22).toMatchObject({
      verdict: 'refused',
      byte: 13,
      error: { register: '0xEE/0x0104', text: 'Неверный номер налога', code: 'KKT_EXT_BAD_TAX' },
    });
    commands.length = 0;

    const refused = await agent.intake.submit({ bill: billAt('b22', 'vat22'), trigger: { kind: 'test' } });
    expect(refused.job.state).toBe('FAILED');
    expect(refused.job.failure).toMatchObject({
      code: 'KKT_REFUSED_IN_SELF_TEST',
      field: 'positions[0].vat',
    });
    expect(refused.job.failure?.message).toMatch(
      /VAT 22 % \(vat22\) \(byte 13\).*0xEE\/0x0104 "Неверный номер налога"/,
    );

    const fine = await agent.intake.submit({ bill: billAt('b10', 'vat10'), trigger: { kind: 'test' } });
    await until(() => agent.jobs.get(fine.job.id)?.fiscal !== undefined, 'the 10 % bill printed');
    // Only the 10 % receipt reached the register: one open, one close.
    expect(commands.filter((c) => c.code === '92')).toHaveLength(1);
    expect(documents.filter((d) => d.kind === 'receipt').map((d) => d.marker)).toEqual([fine.job.id]);

    // The report survives a restart of the agent.
    const stored = JSON.parse(await readFile(join(dir, 'doctor.json'), 'utf8')) as {
      reports: Record<string, DoctorReport>;
      running: Record<string, unknown>;
    };
    expect(stored.reports['kkt1']?.findings.find((f) => f.feature === 'vat:vat22')?.verdict).toBe('refused');
    expect(stored.running).toEqual({});
  });

  it('refuses a bill with a customer contact when the register refused 1008, and applies no finding about another byte', async () => {
    await startEmulator();
    const { agent, device } = await openAgent();
    const report: DoctorReport = {
      deviceId: 'kkt1',
      kind: 'atol',
      at: '2026-03-01T10:00:00.000Z',
      identity: { serial: device.driver.deviceInfoCached?.serial },
      probes: 'done',
      findings: [
        {
          feature: 'tag:1008',
          label: '1008 customer contact',
          verdict: 'refused',
          error: { code: 'KKT_EXT_X', register: '0xEE/0x0205', text: 'x', message: 'x' },
        },
        { feature: 'vat:vat10', label: 'VAT 10 % (vat10)', verdict: 'refused', byte: 77 },
      ],
    };
    // A bill at 10 %: the finding was about byte 77, the device sends byte 2 now.
    expect(device.admissionRefusal(billAt('x', 'vat10'), report)).toBeUndefined();
    const withContact = billAt('y', 'vat10', { customer: { emailOrPhone: 'a@b.ru' } });
    expect(device.admissionRefusal(withContact, report)?.message).toMatch(
      /^customer\.emailOrPhone: needs 1008/,
    );
    // A report about another register (its serial) is not applied.
    expect(
      device.admissionRefusal(withContact, { ...report, identity: { serial: 'other' } }),
    ).toBeUndefined();
    expect(agent.doctor.report('kkt1')).toBeUndefined();
  });

  it('a probe cut off by a dropped link leaves a receipt that the next print cancels: one fiscal document, the bill', async () => {
    await startEmulator();
    const { agent, device } = await openAgent();
    await agent.deviceOperation('kkt1', (d) => d.openShift());
    const before = emulator.device.lastDocumentNumber;
    emulator.setFault('dropOnCommand', 'EB');

    const [report] = await agent.runDoctor({});
    expect(report?.probes).toBe('interrupted');
    expect(report?.findings.length).toBeGreaterThan(0);
    expect(emulator.device.receipt).toBeDefined();
    await until(() => device.ready, 'reconnected');

    const { job } = await agent.intake.submit({ bill: billAt('after', 'vat10'), trigger: { kind: 'test' } });
    await until(() => agent.jobs.get(job.id)?.fiscal !== undefined, 'printed');
    expect(emulator.device.lastDocumentNumber).toBe(before + 1);
    expect(documents.filter((d) => d.kind === 'receipt').map((d) => d.marker)).toEqual([job.id]);
    expect(emulator.device.receipt).toBeUndefined();
  });

  it("the reconcile of a job left PRINTING cancels an interrupted probe's receipt and finds nothing printed", async () => {
    await startEmulator();
    const device = atolDevice();
    await device.start();
    await until(() => device.ready, 'ready');
    await device.openShift();
    const anchor = await device.driver.fnAnchor();
    emulator.setFault('dropOnCommand', 'EB');
    expect((await device.doctor()).probes).toBe('interrupted');
    expect(emulator.device.receipt).toBeDefined();
    await until(() => device.ready, 'reconnected');

    const job = {
      id: 'job-1',
      printing: {
        lastDocumentNumberBefore: anchor.lastDocumentNumber,
        fnSerial: anchor.fnSerial,
        startedAt: '',
      },
    } as Job;
    const outcome = await device.reconcile(job);
    expect(outcome).toEqual({
      kind: 'not-printed',
      note: 'an open receipt was cancelled; no fiscal document was made',
    });
    expect(emulator.device.receipt).toBeUndefined();
    await device.stop();
  });

  it('an interrupted run is recorded before the probes and reported at the next open', async () => {
    const path = join(dir, 'doctor.json');
    await writeFile(
      path,
      JSON.stringify({ reports: {}, running: { kkt1: { startedAt: '2026-03-01T10:00:00.000Z', pid: 1 } } }),
    );
    const warnings: unknown[] = [];
    const doctor = await Doctor.open(
      dir,
      pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) }),
    );
    expect(doctor.interrupted).toEqual({ kkt1: { startedAt: '2026-03-01T10:00:00.000Z', pid: 1 } });
    expect(warnings).toEqual([expect.objectContaining({ event: 'doctor.interrupted', device: 'kkt1' })]);
  });

  it('sets an unreadable doctor.json aside instead of refusing to start', async () => {
    await writeFile(join(dir, 'doctor.json'), '{ not json');
    const doctor = await Doctor.open(dir, logger);
    expect(doctor.reports).toEqual([]);
  });

  it('a bill for a device without a report is taken as before', async () => {
    await startEmulator();
    const { agent } = await openAgent();
    const { job } = await agent.intake.submit({ bill: sampleBill('plain'), trigger: { kind: 'test' } });
    expect(job.state).toBe('RECEIVED');
  });
});
