import { beforeEach, describe, expect, it } from 'vitest';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
} from '../../src/emulators/atol/index.js';
import { faultyBill, type MockBridge } from '../../src/emulators/bridge/index.js';
import { receiptsOf, useAgentBox } from '../support/agentBox.js';
import { runCli, until } from '../support/agentProcess.js';
import { SHOP_TZ } from '../support/shopConfig.js';

/**
 * The agent as shops run it: a real `kkt-agent run` process, the ATOL emulator on TCP and a mock CRM
 * bridge on loopback, driven through the technician CLI.
 */

const box = useAgentBox('kkt-e2e-');
let emulator: AtolEmulator;
let bridge: MockBridge;
let receipts: JournalEntry[];

interface JobRow {
  id: string;
  state: string;
  key: string;
  failure?: string;
}

async function startAgent(overrides: { autoFiscalize?: boolean; taxBytes?: Record<string, number> } = {}) {
  return box.startAgent({
    timeZone: SHOP_TZ,
    devices: [
      {
        id: 'kkt',
        kind: 'atol',
        link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
        operator: { name: 'Кассир' },
        taxBytes: overrides.taxBytes ?? EMULATOR_EXTRA_TAX_BYTES,
        // The mock bridge's sample bills include 5 % and 7 %, which only УСН may charge.
        taxationType: 'usnIncome',
      },
    ],
    outbox: { initialBackoffMs: 100, maxBackoffMs: 400 },
    connectors: {
      bridge: [
        {
          id: '120',
          baseUrl: bridge.url,
          timeoutMs: 800,
          retries: 1,
          retryDelayMs: 50,
          // A bill that failed is asked for again after its own backoff (issue 18.2), at a test's pace.
          billRetry: { firstDelayMs: 300, maxDelayMs: 1_000 },
          autoFiscalize: { enabled: overrides.autoFiscalize ?? true, intervalMs: 300 },
          defaultPayment: 'card',
        },
      ],
    },
  });
}

const jobs = async () => ((await box.agent.call('jobs.list', { limit: 1000 })) as { jobs: JobRow[] }).jobs;

/** Every one of `total` jobs REPORTED or FAILED. */
const allSettled = (total: number) =>
  until(
    async () => {
      const list = await jobs();
      return list.length === total && list.every((j) => j.state === 'REPORTED' || j.state === 'FAILED')
        ? list
        : undefined;
    },
    'all settled',
    30_000,
  );

beforeEach(async () => {
  emulator = await box.startRegister();
  receipts = receiptsOf(emulator);
  bridge = await box.startBridge();
});

describe('bridge bills become receipts, exactly once', () => {
  it('prints every bill once, posts one event each, and says so in status', async () => {
    await startAgent();
    const expected = bridge.bills().length;
    await until(
      async () => (await jobs()).filter((j) => j.state === 'REPORTED').length === expected,
      'all bills reported',
    );
    expect(receipts).toHaveLength(expected);
    expect(new Set(receipts.map((r) => r.marker)).size).toBe(expected);
    const eventIds = bridge.receipts.map((r) => (r.body as { data: { id: string } }).data.id);
    expect(new Set(eventIds).size).toBe(expected);

    // Polling goes on: the bills are still listed, but nothing prints again.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(receipts).toHaveLength(expected);

    const status = await runCli(['status', '--socket', box.agent.socket]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('OK: nothing needs attention.');
    expect(status.stdout).toMatch(/Device kkt \(atol\) — online/);
    const json = JSON.parse((await runCli(['status', '--json', '--socket', box.agent.socket])).stdout) as {
      jobs: Record<string, number>;
      devices: Array<{ shift: { state: string } }>;
    };
    expect(json.jobs.REPORTED).toBe(expected);
    expect(json.devices[0]?.shift.state).toBe('open');
  });

  it('fiscalizes a bill on a technician command; a repeated command prints nothing', async () => {
    await startAgent({ autoFiscalize: false });
    const first = await runCli([
      'fiscalize',
      '--account',
      '120',
      '--number',
      '1307620',
      '--payment',
      'cash',
      '--socket',
      box.agent.socket,
    ]);
    expect(first.stdout).toMatch(/^Queued: job \w+/);
    await until(async () => (await jobs()).some((j) => j.state === 'REPORTED'), 'reported');
    const again = await runCli([
      'fiscalize',
      '--account',
      '120',
      '--number',
      '1307620',
      '--socket',
      box.agent.socket,
    ]);
    expect(again.stdout).toMatch(/^Already known, nothing printed again/);
    expect(receipts).toHaveLength(1);
    expect(receipts[0]?.payments?.[0]?.paymentType).toBe(1);
    const event = bridge.receipts[0]?.body as { data: { paymentSource: string; totalAmount: number } };
    expect(event.data).toMatchObject({ paymentSource: 'PAY_CASH', totalAmount: 15931 });
    const unknown = await runCli([
      'fiscalize',
      '--account',
      '120',
      '--number',
      'NOPE',
      '--socket',
      box.agent.socket,
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('BRIDGE_BILL_NOT_FOUND');
  });

  it('runs the technician commands: X report, shift close, cash in, outbox and jobs listings', async () => {
    await startAgent({ autoFiscalize: false });
    const socket = ['--socket', box.agent.socket];
    expect((await runCli(['shift', 'open', ...socket])).stdout).toMatch(/Shift 1 opened/);
    expect((await runCli(['cash', 'in', '1500.00', ...socket])).stdout).toContain('Cash in: 1500.00');
    expect(emulator.device.cashKop).toBe(150_000);
    expect((await runCli(['report', 'x', ...socket])).stdout).toContain('X report printed');
    expect((await runCli(['shift', 'close', ...socket])).stdout).toMatch(/Shift 1 closed \(FD \d+\)/);
    expect((await runCli(['jobs', 'list', ...socket])).stdout).toContain('No jobs.');
    expect((await runCli(['outbox', 'list', ...socket])).stdout).toContain('The outbox is empty.');
    const bad = await runCli(['jobs', 'resolve', 'nope', '--printed', ...socket]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('JOB_NOT_FOUND');
    // Eight CLI processes in a row: a shared two-core machine needs more than the default 20 s for them.
  }, 60_000);
});

describe('the cloud misbehaves', () => {
  it('queues receipts while the bridge is down and delivers them in order, with the same ids, once it is back', async () => {
    bridge.setFault({ kind: 'rejectReceipts', status: 503, times: 1_000 });
    await startAgent();
    const expected = bridge.bills().length;
    await until(
      async () => (await jobs()).filter((j) => j.state === 'FISCALIZED').length === expected,
      'all printed',
    );
    await until(
      () => bridge.requests.filter((r) => r.endpoint === 'receipts').length >= expected,
      'refused deliveries',
    );
    // The event ids drafted while the bridge refused them, as the outbox holds them.
    const queuedIds = new Set<string>();
    for (const job of await jobs()) {
      const shown = (await box.agent.call('jobs.show', { id: job.id })) as {
        outbox: Array<{ payload: { event: { data: { id: string } } } }>;
      };
      for (const entry of shown.outbox) queuedIds.add(entry.payload.event.data.id);
    }
    expect(queuedIds.size).toBe(expected);
    bridge.clearFaults();
    await until(
      async () => (await jobs()).filter((j) => j.state === 'REPORTED').length === expected,
      'all reported',
      30_000,
    );
    const delivered = bridge.receipts.map(
      (r) => (r.body as { data: { id: string; extras: { billId: string } } }).data,
    );
    expect(new Set(delivered.map((d) => d.id)).size).toBe(expected);
    expect(new Set(delivered.map((d) => d.id))).toEqual(queuedIds);
    // FIFO: the events arrive in the order the receipts were printed.
    const printedOrder = receipts.map((r) => r.marker);
    const jobByBill = new Map((await jobs()).map((j) => [j.key.split('/')[2], j.id]));
    expect(delivered.map((d) => jobByBill.get(d.extras.billId))).toEqual(printedOrder);
    expect(receipts).toHaveLength(expected);
  });

  it('retries when the bridge answers 500, times out or sends garbage, and prints each bill once', async () => {
    bridge.setFault({ kind: 'http500', endpoint: 'bill', times: 2 });
    bridge.setFault({ kind: 'hang', endpoint: 'list', times: 1 });
    bridge.setFault({ kind: 'garbage', endpoint: 'bill', times: 2 });
    await startAgent();
    const expected = bridge.bills().length;
    await until(
      async () => (await jobs()).filter((j) => j.state === 'REPORTED').length === expected,
      'all reported',
      30_000,
    );
    expect(receipts).toHaveLength(expected);
  });

  it('fails bad bills with a clear reason, prints nothing for them, and goes on with the good ones', async () => {
    const date = '2026-11-20 10:00:00';
    for (const [index, kind] of (
      ['missingFields', 'nonNumericPrice', 'totalMismatch', 'unknownTaxRate'] as const
    ).entries()) {
      bridge.addBill(faultyBill(kind, { id: 9000 + index, date }));
    }
    bridge.addBill({ ...faultyBill('unknownTaxRate', { id: 9100, date }) });
    bridge.setFault({ kind: 'hugeBody', endpoint: 'bill', bytes: 5 * 1024 * 1024, times: 1_000 });
    await startAgent({ autoFiscalize: false });
    const huge = await runCli([
      'fiscalize',
      '--account',
      '120',
      '--id',
      '9100',
      '--socket',
      box.agent.socket,
    ]);
    expect(huge.code).toBe(0);
    bridge.clearFaults();
    await box.agent.stop();
    await startAgent({ autoFiscalize: true });
    const total = bridge.bills().length;
    const settled = await allSettled(total);
    const failed = settled.filter((j) => j.state === 'FAILED');
    expect(failed.map((j) => j.key.split('/')[2]).sort()).toEqual(['9000', '9001', '9002', '9003', '9100']);
    const reasons = Object.fromEntries(failed.map((j) => [j.key.split('/')[2], j.failure]));
    expect(reasons['9001']).toContain('products[0].price');
    expect(reasons['9002']).toMatch(/summ|total/i);
    expect(reasons['9003']).toContain('taxrate');
    expect(reasons['9100']).toMatch(/exceeds \d+ bytes/);
    expect(receipts).toHaveLength(total - failed.length);
    const failedJobIds = new Set(failed.map((j) => j.id));
    expect(receipts.filter((r) => failedJobIds.has(r.marker ?? ''))).toEqual([]);
  });
});

describe('a register whose tax bytes are not configured', () => {
  it('fails the bills with a rate it has no byte for, names the rate, sends nothing for them, and prints the rest', async () => {
    await startAgent({ taxBytes: {} });
    const total = bridge.bills().length;
    const settled = await allSettled(total);
    const failed = settled.filter((j) => j.state === 'FAILED');
    expect(failed.length).toBeGreaterThan(0);
    for (const job of failed) expect(job.failure).toMatch(/No tax byte is known for (vat5|vat7|vat22)/);
    const failedJobIds = new Set(failed.map((j) => j.id));
    expect(receipts.filter((r) => failedJobIds.has(r.marker ?? ''))).toEqual([]);
    expect(receipts).toHaveLength(total - failed.length);
    expect(receipts.length).toBeGreaterThan(0);
  });
});

describe('clean shutdown', () => {
  it('exits 0 on SIGTERM, and a second start picks up where it left off', async () => {
    await startAgent();
    const expected = bridge.bills().length;
    await until(
      async () => (await jobs()).filter((j) => j.state === 'REPORTED').length === expected,
      'all reported',
    );
    expect(await box.agent.stop()).toBe(0);
    await startAgent();
    const after = await jobs();
    expect(after.filter((j) => j.state === 'REPORTED')).toHaveLength(expected);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(receipts).toHaveLength(expected);
  });
});
