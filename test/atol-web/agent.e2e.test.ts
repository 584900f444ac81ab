import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MockBridge } from '../../src/emulators/bridge/index.js';
import { useAgentBox } from '../support/agentBox.js';
import { runCli, until } from '../support/agentProcess.js';
import { startWeb, TZ, type WebHarness, webDeviceConfig } from './support.js';

/**
 * A real `kkt-agent run` process with an `atol-web` device: the driver-10 web facade (with Basic auth)
 * in front of the emulated register, and the mock CRM bridge feeding bills. Needs `npm run build`.
 */

const RECEIPTS = { taskTypes: ['sell', 'sellReturn'] };
const AUTH = { username: 'kassa', password: 'pa55' };

// Registered before the box, so it runs after the box has stopped everything (hooks run as a stack).
afterEach(() => {
  expect(h.warnings).toEqual([]);
});
const box = useAgentBox('kkt-atol-web-e2e-');
let h: WebHarness;
let bridge: MockBridge;

interface JobRow {
  id: string;
  state: string;
}

function startAgent() {
  return box.startAgent({
    timeZone: TZ,
    // The mock bridge's sample bills include 5 % and 7 %, which only УСН may charge.
    devices: [webDeviceConfig(h.web.url, { auth: AUTH, taxationType: 'usnIncome' })],
    fiscalizer: { retryDelayMs: 100, maxRetryDelayMs: 400 },
    outbox: { initialBackoffMs: 100, maxBackoffMs: 400 },
    connectors: {
      bridge: [
        {
          id: '120',
          baseUrl: bridge.url,
          timeoutMs: 800,
          retries: 1,
          retryDelayMs: 50,
          autoFiscalize: { enabled: true, intervalMs: 300 },
          defaultPayment: 'card',
        },
      ],
    },
  });
}

const jobs = async () => ((await box.agent.call('jobs.list', { limit: 1000 })) as { jobs: JobRow[] }).jobs;

const allReported = async (expected: number) =>
  until(
    async () => (await jobs()).filter((j) => j.state === 'REPORTED').length === expected,
    'all bills reported',
    30_000,
  );

/** Exactly one receipt per job, each carrying its job's marker. */
async function expectOneReceiptPerJob(): Promise<void> {
  const markers = h.receipts().map((r) => r.marker);
  const ids = (await jobs()).map((j) => j.id);
  expect(markers.slice().sort()).toEqual(ids.slice().sort());
}

beforeEach(async () => {
  h = await startWeb({ auth: AUTH });
  box.own(h.web);
  bridge = await box.startBridge({ timeZone: TZ });
});

describe('kkt-agent with an ATOL register behind the driver-10 web server', () => {
  it('prints every bill once, answers the technician commands and shows the device in status', async () => {
    await startAgent();
    const expected = bridge.bills().length;
    await allReported(expected);
    await expectOneReceiptPerJob();
    expect(h.documents[0]?.kind).toBe('openShift');

    const socket = ['--socket', box.agent.socket];
    const status = await runCli(['status', ...socket]);
    expect(status.stdout).toMatch(/Device kkt \(atol-web\) — online/);
    expect((await runCli(['cash', 'in', '500.00', ...socket])).stdout).toContain('Cash in: 500.00');
    expect(h.web.device.cashKop).toBe(50_000);
    expect((await runCli(['report', 'x', ...socket])).stdout).toContain('X report printed');
    expect((await runCli(['shift', 'close', ...socket])).stdout).toMatch(/Shift 1 closed \(FD \d+\)/);
    expect(h.documents.at(-1)?.kind).toBe('closeShift');

    // Polling goes on; nothing prints twice.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(h.receipts()).toHaveLength(expected);
  }, 60_000); // several CLI processes in a row: more than the default 20 s on a shared two-core machine

  it('survives cut connections, lost results and an interrupted request with one receipt per bill', async () => {
    h.web.setFault('dropAfterAccept', 2, RECEIPTS);
    h.web.setFault('http500AfterAccept', 1, RECEIPTS);
    h.web.setFault('loseResultsAfterRun', 1, RECEIPTS);
    h.web.setFault('interruptTask', 1, RECEIPTS);
    await startAgent();
    await allReported(bridge.bills().length);
    expect(h.web.activeFaults).toMatchObject({
      dropAfterAccept: 0,
      http500AfterAccept: 0,
      loseResultsAfterRun: 0,
      interruptTask: 0,
    });
    await expectOneReceiptPerJob();
  });

  it('killed while the server runs a receipt: after the restart the job is reconciled by its uuid', async () => {
    h.web.setFault('taskSlowMs', 1500, RECEIPTS);
    await startAgent();
    await until(
      () => h.requests.some((r) => r.status === 201 && r.taskTypes?.includes('sell')),
      'a receipt submitted',
      20_000,
    );
    await box.agent.kill();
    h.web.clearFaults();
    await startAgent();
    await allReported(bridge.bills().length);
    await expectOneReceiptPerJob();
    // The interrupted job was looked up, not submitted again.
    expect(h.requests.filter((r) => r.taskTypes?.includes('sell') && r.status === 409)).toEqual([]);
  });
});
