import { describe, expect, it } from 'vitest';
import { EMULATOR_EXTRA_TAX_BYTES } from '../../src/emulators/atol/index.js';
import {
  faultyBill,
  type MockBillJson,
  type MockBridge,
  type MockBridgeFault,
  SEED_BILLS,
} from '../../src/emulators/bridge/index.js';
import { wallClockAt } from '../../src/lib/time.js';
import { useAgentBox } from '../support/agentBox.js';
import { type AgentProcess, runCli, until } from '../support/agentProcess.js';
import { SHOP_TZ } from '../support/shopConfig.js';

/**
 * Issue 18.2, "One bad bill stops every newer bill": the oldest listed bill answers 500, hangs, redirects,
 * sends garbage or resets the connection while HELLO and LIST work. The real daemon prints the newer bills,
 * gives the bad one its own backoff and an alert in `status`, and does not ask for it (or warn about it)
 * on every poll. The ATOL emulator is the register; the mock bridge is the cloud.
 */

const ZONE = SHOP_TZ;
// A test may leave the bridge hanging: the daemon is killed, not waited for.
const box = useAgentBox('kkt-badbill-', { teardown: 'kill' });
let bridge: MockBridge;

function today(): string {
  const t = wallClockAt(new Date(), ZONE);
  return `${t.year}-${String(t.month).padStart(2, '0')}-${String(t.day).padStart(2, '0')}`;
}

/** The seed bill of the exchange log as bill `id` (number `<id>-CRM`) of today at `time`. */
function billAt(id: number, time: string): MockBillJson {
  return { ...structuredClone(SEED_BILLS[0]!), id, number: `${id}-CRM`, date: `${today()} ${time}` };
}

/** Bills 7001 (the oldest, the bad one in most tests) to 7003 of today. */
function todaysBills(): MockBillJson[] {
  return [billAt(7001, '09:00:00'), billAt(7002, '10:00:00'), billAt(7003, '11:00:00')];
}

/** Each test starts a daemon and prints a few receipts: generous on a loaded two-core box. */
const TEST_TIMEOUT_MS = 90_000;

/** The box: the ATOL emulator, the bridge polled every 200 ms. */
async function startBox(billRetry: { firstDelayMs: number; maxDelayMs: number }): Promise<AgentProcess> {
  const emulator = await box.startRegister();
  return box.startAgent({
    timeZone: ZONE,
    log: { level: 'info' },
    devices: [
      {
        id: 'kkt',
        kind: 'atol',
        link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
        operator: { name: 'Кассир' },
        taxBytes: EMULATOR_EXTRA_TAX_BYTES,
      },
    ],
    connectors: {
      bridge: [
        {
          id: '120',
          baseUrl: bridge.url,
          timeoutMs: 700,
          retries: 1,
          retryDelayMs: 50,
          billRetry,
          autoFiscalize: { enabled: true, intervalMs: 200 },
        },
      ],
    },
  });
}

type JobRow = { number?: string; state: string };

async function jobs(running: AgentProcess): Promise<JobRow[]> {
  return ((await running.call('jobs.list', {})) as { jobs: JobRow[] }).jobs;
}

async function reported(running: AgentProcess, numbers: string[]): Promise<void> {
  await until(
    async () => {
      const list = await jobs(running);
      return numbers.every((n) => list.some((job) => job.number === n && job.state === 'REPORTED'));
    },
    `bills ${numbers.join(', ')} reported`,
    60_000,
  );
}

const billRequests = (id: string) =>
  bridge.requests.filter((request) => request.url === `/api/v2/bill/byid/${id}`).length;
const listRequests = () => bridge.requests.filter((request) => request.endpoint === 'list').length;

const FAULTS: Array<[string, MockBridgeFault['kind']]> = [
  ['answers HTTP 500', 'http500'],
  ['hangs', 'hang'],
  ['redirects', 'redirect'],
  ['sends garbage', 'garbage'],
  ['resets the connection', 'reset'],
];

describe('18.2 one bad bill does not stop the newer ones (bridge)', () => {
  it.each(FAULTS)(
    'the oldest bill %s: the newer bills print, the bad one waits on its own backoff as an alert',
    async (_name, kind) => {
      bridge = await box.startBridge({ bills: todaysBills() });
      bridge.setFault({ kind, endpoint: 'bill', billId: '7001' } as MockBridgeFault);
      const running = await startBox({ firstDelayMs: 600_000, maxDelayMs: 600_000 });
      await reported(running, ['7002-CRM', '7003-CRM']);
      expect((await jobs(running)).some((job) => job.number === '7001-CRM')).toBe(false);

      // Three polls later the bad bill was still asked for only once (its backoff is ten minutes).
      const lists = listRequests();
      await until(() => listRequests() >= lists + 3, 'three more polls', 60_000);
      // A try is the first request and one retry, except for garbage, which a retry would not mend.
      expect(billRequests('7001')).toBe(kind === 'garbage' ? 1 : 2);
      // One warning, then quiet.
      expect(running.output().split('"event":"bridge.bill.failing"').length - 1).toBe(1);

      const text = await runCli(['status', '--socket', box.socket]);
      expect(text.stdout).not.toContain('OK: nothing needs attention');
      expect(text.stdout).toMatch(
        /bridge:120: 1 bill\(s\) could not be taken since .*: 7001 \(1 tries, BRIDGE_/,
      );
      const json = JSON.parse((await runCli(['status', '--json', '--socket', box.socket])).stdout) as {
        connectors: Array<{ online: boolean; failingBills?: Array<{ billId: string; failures: number }> }>;
        alerts: Array<{ code: string; connector?: string }>;
      };
      expect(json.connectors[0]!.failingBills).toMatchObject([{ billId: '7001', failures: 1 }]);
      // HELLO and LIST work: the bridge itself is online.
      expect(json.connectors[0]!.online).toBe(true);
      expect(json.alerts).toContainEqual(
        expect.objectContaining({ code: 'BILLS_FAILING', connector: 'bridge:120' }),
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the bad bill is tried again on its backoff, prints once the bridge serves it, and the alert clears',
    async () => {
      bridge = await box.startBridge({ bills: todaysBills() });
      // Four tries of two requests each fail; the fifth try gets the bill.
      bridge.setFault({ kind: 'http500', endpoint: 'bill', billId: '7001', times: 8 });
      const running = await startBox({ firstDelayMs: 300, maxDelayMs: 600 });
      await reported(running, ['7002-CRM', '7003-CRM', '7001-CRM']);
      expect(billRequests('7001')).toBe(9);
      expect(running.output()).toContain('"event":"bridge.bill.recovered"');
      const json = JSON.parse((await runCli(['status', '--json', '--socket', box.socket])).stdout) as {
        connectors: Array<{ failingBills?: unknown[] }>;
        alerts: Array<{ code: string }>;
      };
      expect(json.connectors[0]!.failingBills).toBeUndefined();
      expect(json.alerts.map((alert) => alert.code)).not.toContain('BILLS_FAILING');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a restart remembers the failing bill: not asked for again before its backoff, still an alert; forgotten once the bridge drops it',
    async () => {
      bridge = await box.startBridge({ bills: todaysBills() });
      bridge.setFault({ kind: 'http500', endpoint: 'bill', billId: '7001' } as MockBridgeFault);
      const first = await startBox({ firstDelayMs: 600_000, maxDelayMs: 600_000 });
      await reported(first, ['7002-CRM', '7003-CRM']);
      await until(() => billRequests('7001') === 2, 'the bad bill tried once (a request and its retry)');
      expect(await first.stop()).toBe(0);

      const second = await box.startAgent();
      const lists = listRequests();
      await until(() => listRequests() >= lists + 3, 'three polls after the restart', 60_000);
      // Its ten-minute backoff runs on across the restart: not one more request.
      expect(billRequests('7001')).toBe(2);
      const failing = async () =>
        JSON.parse((await runCli(['status', '--json', '--socket', box.socket])).stdout) as {
          connectors: Array<{ failingBills?: Array<{ billId: string; failures: number }> }>;
          alerts: Array<{ code: string }>;
        };
      const after = await failing();
      expect(after.connectors[0]!.failingBills).toMatchObject([{ billId: '7001', failures: 1 }]);
      expect(after.alerts.map((alert) => alert.code)).toContain('BILLS_FAILING');

      // The bridge no longer lists it (paid elsewhere): forgotten, and a restart does not bring it back.
      bridge.removeBill('7001');
      await until(async () => (await failing()).connectors[0]!.failingBills === undefined, 'forgotten');
      expect(await second.stop()).toBe(0);
      await box.startAgent();
      const again = listRequests();
      await until(() => listRequests() >= again + 1, 'a poll after the second restart', 60_000);
      expect((await failing()).connectors[0]!.failingBills).toBeUndefined();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the bridge going down mid-cycle stops the cycle without charging the bill (HELLO decides)',
    async () => {
      bridge = await box.startBridge({ bills: todaysBills() });
      const running = await startBox({ firstDelayMs: 600_000, maxDelayMs: 600_000 });
      await reported(running, ['7001-CRM', '7002-CRM', '7003-CRM']);
      // A new bill whose BILL fails like a dead bridge, and HELLO fails with it.
      bridge.addBill(billAt(7005, '23:59:00'));
      bridge.setFault({ kind: 'http500', endpoint: 'bill', billId: '7005', times: 2 });
      // HELLO fails from the moment BILL did (the bridge died after LIST).
      bridge.events.on('request', (request) => {
        if (request.url === '/api/v2/bill/byid/7005' && request.outcome === 500 && billRequests('7005') === 1)
          bridge.setFault({ kind: 'http500', endpoint: 'hello', times: 2 });
      });
      // …but the LIST before it still answered; the next cycle finds the bridge well and takes 7005.
      await reported(running, ['7005-CRM']);
      expect(running.output()).not.toContain('"event":"bridge.bill.failing"');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a bill that fails validation is recorded once and never asked for again',
    async () => {
      const bills = [
        faultyBill('unknownTaxRate', { id: 7000, number: '7000-BAD', date: `${today()} 08:00:00` }),
        ...todaysBills(),
      ];
      bridge = await box.startBridge({ bills });
      const running = await startBox({ firstDelayMs: 300, maxDelayMs: 600 });
      await reported(running, ['7001-CRM', '7002-CRM', '7003-CRM']);
      const lists = listRequests();
      await until(() => listRequests() >= lists + 3, 'three more polls', 60_000);
      expect(billRequests('7000')).toBe(1);
      expect(running.output().split('"event":"bridge.bill.rejected"').length - 1).toBe(1);
      expect((await jobs(running)).find((job) => job.number === '7000-BAD')?.state).toBe('FAILED');
    },
    TEST_TIMEOUT_MS,
  );
});
