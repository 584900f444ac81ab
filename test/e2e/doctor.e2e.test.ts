import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildBill, buildPosition } from '../../src/agent/domain/bill.js';
import { parseWireTrace } from '../../src/drivers/atol/transport/wireTrace.js';
import {
  type AtolEmulator,
  type AtolEmulatorOptions,
  type CommandEvent,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
} from '../../src/emulators/atol/index.js';
import { useAgentBox } from '../support/agentBox.js';
import { runCli, until } from '../support/agentProcess.js';
import { SHOP_TZ } from '../support/shopConfig.js';

/**
 * `kkt-agent doctor` as a technician runs it: on its own at install, and through the running agent, which
 * owns the register (one link, between receipts). The register is the ATOL emulator on TCP.
 */

const box = useAgentBox('kkt-doctor-e2e-');
let configPath: string;
let emulator: AtolEmulator;
let documents: JournalEntry[];
let commands: CommandEvent[];
let connections: number;

interface JobView {
  id: string;
  state: string;
  failure?: { code: string; field?: string; message: string };
  fiscal?: { fiscalDocumentNumber: number };
}

async function setUp(options: Partial<AtolEmulatorOptions> = {}) {
  emulator = await box.startRegister(options);
  documents = [];
  commands = [];
  connections = 0;
  emulator.on('document', (entry) => documents.push(entry));
  emulator.on('command', (event) => commands.push(event));
  emulator.on('connection', () => connections++);
  configPath = await box.writeConfig({
    timeZone: SHOP_TZ,
    devices: [
      {
        id: 'kkt',
        kind: 'atol',
        link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
        operator: { name: 'Кассир', vatin: '500100732259' },
        taxationType: 'usnIncome',
        taxBytes: EMULATOR_EXTRA_TAX_BYTES,
      },
    ],
    connectors: { bridge: [] },
  });
}

/** Starts `kkt-agent run` and waits until its register is connected (the control socket answers sooner). */
const startAgent = async (env: Record<string, string> = {}) => {
  const started = await box.startAgent(undefined, { env });
  await until(async () => {
    const status = (await started.call('status')) as { devices: Array<{ online: boolean }> };
    return status.devices[0]?.online;
  }, 'the register connected');
  return started;
};

const doctor = (...args: string[]) => runCli(['doctor', '--config', configPath, ...args]);

const bill = (billId: string, vat: 'vat22' | 'vat10') =>
  buildBill({
    source: 'cli',
    account: 'shop',
    billId,
    number: billId,
    currency: 'RUB',
    positions: [buildPosition({ name: 'Чай', priceMinor: 15_000, quantityMilli: 1000, unit: 'piece', vat })],
    payments: 'card',
  });

const job = async (id: string) => ((await box.agent.call('jobs.show', { id })) as { job: JobView }).job;

describe('kkt-agent doctor at install (no agent running)', () => {
  it('with no shift open probes nothing, says to use --open-shift and exits 2', async () => {
    await setUp();
    const before = emulator.device.lastDocumentNumber;
    const { code, stdout } = await doctor();
    expect(code).toBe(2);
    expect(stdout).toContain('Probes skipped');
    expect(stdout).toContain('--open-shift');
    expect(stdout).toMatch(/register\s+АТОЛ 30Ф, serial \d+, firmware [\d.]+, FFD 1\.2/);
    expect(commands.map((c) => c.code)).not.toContain('92');
    expect(emulator.device.lastDocumentNumber).toBe(before);
  });

  it('with --open-shift probes everything inside a cancelled receipt: one fiscal document (the shift), exit 0', async () => {
    await setUp();
    const before = emulator.device.lastDocumentNumber;
    const { code, stdout, stderr } = await doctor('--open-shift', '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { reports } = JSON.parse(stdout) as {
      reports: Array<{
        probes: string;
        findings: Array<{ verdict: string; feature: string }>;
        fiscalDocuments: unknown;
      }>;
    };
    expect(reports[0]?.probes).toBe('done');
    expect(reports[0]?.findings.every((f) => f.verdict === 'accepted')).toBe(true);
    expect(reports[0]?.findings.map((f) => f.feature)).toEqual(
      expect.arrayContaining([
        'tag:1021',
        'tag:1203',
        'tag:1055',
        'tag:1008',
        'tag:1256',
        'tag:1192',
        'tag:2108',
        'vat:vat22',
      ]),
    );
    expect(documents.map((d) => d.kind)).toEqual(['openShift']);
    expect(reports[0]?.fiscalDocuments).toEqual({ before, after: before + 1 });
    expect(emulator.device.receipt).toBeUndefined();
    const kept = JSON.parse(await readFile(join(box.dir, 'data', 'doctor.json'), 'utf8')) as {
      reports: Record<string, unknown>;
    };
    expect(Object.keys(kept.reports)).toEqual(['kkt']);
  });

  it("reports a refused VAT code with the register's text, and the agent then refuses such bills at intake", async () => {
    await setUp({ faults: { refuseTaxCode: 13 } });
    const { code, stdout } = await doctor('--open-shift');
    expect(code).toBe(2);
    expect(stdout).toMatch(/VAT 22 % \(vat22\)\s+13\s+REFUSED\s+0xEE\/0x0104 Неверный номер налога/);
    expect(stdout).toMatch(/What to do:\n.*VAT 22 % \(vat22\): the register refuses this tax byte/);

    await startAgent();
    const refused = (await box.agent.call('fiscalize', { bill: bill('b22', 'vat22') })) as { job: JobView };
    const failed = await job(refused.job.id);
    expect(failed.state).toBe('FAILED');
    expect(failed.failure).toMatchObject({ code: 'KKT_REFUSED_IN_SELF_TEST', field: 'positions[0].vat' });
    const fine = (await box.agent.call('fiscalize', { bill: bill('b10', 'vat10') })) as { job: JobView };
    await until(async () => (await job(fine.job.id)).fiscal !== undefined, 'the 10 % bill printed');
    expect(documents.filter((d) => d.kind === 'receipt')).toHaveLength(1);
  });
});

describe('kkt-agent doctor while the agent runs', () => {
  it('goes through the agent (no second link), traces the wire on request, and printing goes on', async () => {
    await setUp();
    await startAgent();
    await box.agent.call('shift.open');
    const before = emulator.device.lastDocumentNumber;
    const trace = join(box.dir, 'doctor.trace');

    const { code, stdout } = await doctor('--json', '--trace-wire', trace);
    expect(code).toBe(0);
    const { reports } = JSON.parse(stdout) as { reports: Array<{ probes: string }> };
    expect(reports[0]?.probes).toBe('done');
    expect(connections).toBe(1);
    expect(emulator.device.lastDocumentNumber).toBe(before);

    const entries = parseWireTrace(await readFile(trace, 'utf8'), trace);
    const frames = entries.filter((e) => e.kind === 'frame');
    expect(frames.length).toBeGreaterThan(40);
    expect(new Set(frames.map((f) => f.device))).toEqual(new Set(['kkt']));
    // The probe's contact went out masked.
    expect(frames.some((f) => f.direction === 'host' && f.masked)).toBe(true);

    const printed = (await box.agent.call('fiscalize', { bill: bill('after', 'vat10') })) as { job: JobView };
    await until(async () => (await job(printed.job.id)).fiscal !== undefined, 'printed after the doctor');
    expect(emulator.device.lastDocumentNumber).toBe(before + 1);

    // A CLI that cannot reach the agent's socket does not open a second link: the data directory is taken.
    const blind = await doctor('--socket', join(box.dir, 'elsewhere.sock'));
    expect(blind.code).toBe(1);
    expect(blind.stderr).toContain('DATA_DIR_LOCKED');
    expect(connections).toBe(1);
  });

  it('a crash in the middle of the probes leaves an open receipt that the next print cancels', async () => {
    await setUp();
    await startAgent({ KKT_AGENT_CRASH_AT: 'doctor:after-probe' });
    await box.agent.call('shift.open');
    const before = emulator.device.lastDocumentNumber;
    await expect(box.agent.call('doctor')).rejects.toMatchObject({ code: 'CONTROL_CLOSED' });
    await box.agent.exited;
    expect(emulator.device.receipt).toBeDefined();
    const kept = JSON.parse(await readFile(join(box.dir, 'data', 'doctor.json'), 'utf8')) as {
      running: Record<string, unknown>;
    };
    expect(Object.keys(kept.running)).toEqual(['kkt']);

    await startAgent();
    const printed = (await box.agent.call('fiscalize', { bill: bill('after-crash', 'vat10') })) as {
      job: JobView;
    };
    await until(async () => (await job(printed.job.id)).fiscal !== undefined, 'printed after the crash');
    expect(emulator.device.lastDocumentNumber).toBe(before + 1);
    expect(documents.filter((d) => d.kind === 'receipt').map((d) => d.marker)).toEqual([printed.job.id]);
    expect(emulator.device.receipt).toBeUndefined();
    expect(box.agent.output()).toContain('doctor.interrupted');
  });

  it('run --trace-wire traces every frame from the first connection on, customer contacts masked', async () => {
    await setUp();
    const trace = join(box.dir, 'run.trace');
    const agent = await box.startAgent(undefined, { extraArgs: ['--trace-wire', trace] });
    const withContact = {
      ...bill('contact', 'vat10'),
      customer: { emailOrPhone: 'secret.buyer@example.com' },
    };
    const printed = (await agent.call('fiscalize', { bill: withContact })) as { job: JobView };
    await until(async () => (await job(printed.job.id)).fiscal !== undefined, 'printed');
    await agent.stop();
    const text = await readFile(trace, 'utf8');
    const entries = parseWireTrace(text, trace);
    const frames = entries.filter((e) => e.kind === 'frame');
    // The connection starts with the Abort that clears the task buffer.
    expect(frames[0]?.frame.data).toEqual(Buffer.of(0xc4));
    expect(text).not.toContain(
      Buffer.from('secret.buyer').toString('hex').toUpperCase().match(/../g)!.join(' '),
    );
    expect(frames.filter((f) => f.masked).length).toBeGreaterThanOrEqual(1);
  });
});
