import { beforeEach, describe, expect, it } from 'vitest';
import type { Printout } from '../../src/emulators/atol/index.js';
import { GS } from '../../src/lib/markingCode.js';
import { type MockMoysklad, startMockMoysklad } from '../moysklad/mockServer.js';
import { pairedFile } from '../moysklad/support.js';
import { useAgentBox } from '../support/agentBox.js';
import { runCli, until } from '../support/agentProcess.js';
import { fnDocumentTlv, moyskladWebConfig, startWeb, type WebHarness } from './support.js';

/**
 * Marked goods end to end: a real `kkt-agent run` process takes MoySklad retail demands from its master
 * queue (the mock MoySklad on loopback) and sells them on an `atol-web` device (the driver-10 facade over
 * the emulated register), which checks every code first (docs/marking.md). Needs `npm run build`.
 */

/** Public codes (src/lib/markingCode.test.ts names the sources): shoes, and Честный ЗНАК's own example. */
const SHOES =
  `010463003022541621Yu7t_HclAYqqD${GS}91006A${GS}` +
  '92lYF//jixJXUlaO7WTSPELeZj20OiWEYGcF2HCN8/cUN6f+atR6qDTy2Rw6q6ZSC9TFScVroPNfCL8N8gjgKH1g==';
const CHEESE = `0104680029460908215jcmHzLmkdPML${GS}938p9E`;
/** A code the emulator's ОИСМ reports as already sold (docs/marking.md, "The emulator"). */
const SOLD = `010463003022541621SOLD4711${GS}91006A${GS}92abcd`;

const box = useAgentBox('kkt-marking-');
let h: WebHarness;
let mock: MockMoysklad;
let printouts: Printout[];

interface JobRow {
  id: string;
  state: string;
  failure?: { code: string; message: string };
}

beforeEach(async () => {
  h = await startWeb();
  box.own(h.web);
  printouts = [];
  h.web.register.on('printed', (p) => printouts.push(p));
  mock = box.own(await startMockMoysklad());
});

async function startAgent() {
  const credentialsFile = await pairedFile(mock, box.dir);
  return box.startAgent(moyskladWebConfig({ webUrl: h.web.url, moyskladUrl: mock.url, credentialsFile }));
}

const jobs = async () => ((await box.agent.call('jobs.list', { limit: 100 })) as { jobs: JobRow[] }).jobs;

/** A retail demand of a marked pair of shoes and 250 g of marked cheese (weighed), paid in cash. */
const enqueueMarkedSale = (name: string) =>
  mock.enqueueOperation({
    name,
    positions: [
      { name: 'Кроссовки', priceKop: 500_000, vat: 22, trackingType: 'SHOES', marks: [SHOES] },
      {
        name: 'Сыр весовой',
        priceKop: 120_000,
        vat: 22,
        quantity: '0.25',
        uom: 'кг',
        soldByWeight: true,
        trackingType: 'MILK',
        marks: [CHEESE],
      },
    ],
    cashSum: 530_000,
  });

describe('a MoySklad retail demand with marked goods, through the real agent and driver 10', () => {
  it('sells a marked piece and a weighed marked item with their codes checked, and refuses a sold code and a tracked item without one', async () => {
    const sale = enqueueMarkedSale('00101');
    await startAgent();
    await until(() => mock.approvals.length === 1, 'the marked sale approved', 30_000);
    expect(mock.approvals[0]!.syncId).toBe(sale);
    const [receipt] = h.receipts();
    // The FN keeps each code's product code, the check's result and the assigned status (docs/marking.md).
    const positions = (await fnDocumentTlv(h.web, receipt!.documentNumber))['1059'] as unknown[];
    expect(positions).toMatchObject([
      { '1212': 33, '1163': [{ '1305': '010463003022541621Yu7t_HclAYqqD' }], '2106': 0x0f, '2110': 1 },
      { '1212': 33, '1163': [{ '1305': '0104680029460908215jcmHzLmkdPML' }], '2106': 0x0f, '2110': 2 },
    ]);
    const text = printouts.find((p) => p.kind === 'receipt')!.text;
    expect(text).toContain('[М] Кроссовки');
    expect(text).toContain('КМ 04630030225416 Yu7t_HclAYqqD');
    expect(text).toContain('[М] Сыр весовой');

    const soldCode = mock.enqueueOperation({
      name: '00102',
      positions: [{ name: 'Кроссовки', priceKop: 500_000, vat: 22, trackingType: 'SHOES', marks: [SOLD] }],
      cashSum: 500_000,
    });
    const noCode = mock.enqueueOperation({
      name: '00103',
      positions: [{ name: 'Духи', priceKop: 300_000, vat: 22, trackingType: 'PERFUMERY' }],
      cashSum: 300_000,
    });
    await until(() => mock.rejections.length === 2, 'the two bad demands rejected', 30_000);
    const reasons = Object.fromEntries(mock.rejections.map((r) => [r.syncId, String(r.body.fiscalErrMsg)]));
    expect(reasons[soldCode]).toMatch(/MARKING_CODE_REFUSED.*not in circulation \(already sold/);
    expect(reasons[noCode]).toMatch(/"Духи" is marked goods \(PERFUMERY\).*no marking code/);
    // Nothing but the first sale was fiscalized.
    expect(h.receipts()).toHaveLength(1);

    // The refused code is a FAILED job, with the cashier's reason, in `status`.
    const failed = (await jobs()).find((j) => j.state === 'FAILED');
    expect(failed).toBeDefined();
    const status = await runCli(['status', '--socket', box.socket]);
    expect(status.stdout).toContain('Failed jobs');
    expect(status.stdout).toContain('MARKING_CODE_REFUSED');

    // ОИСМ does not answer: the bill is refused with its own code, and the technician gets an alert.
    const silent = mock.enqueueOperation({
      name: '00104',
      positions: [
        {
          name: 'Кроссовки',
          priceKop: 500_000,
          vat: 22,
          trackingType: 'SHOES',
          marks: [`010463003022541621NOOISM1${GS}91006A${GS}92abcd`],
        },
      ],
      cashSum: 500_000,
    });
    await until(() => mock.rejections.length === 3, 'the demand refused for want of ОИСМ', 30_000);
    expect(mock.rejections[2]!.syncId).toBe(silent);
    expect(String(mock.rejections[2]!.body.fiscalErrMsg)).toMatch(
      /MARKING_OISM_UNAVAILABLE.*no answer from Честный ЗНАК/,
    );
    const { alerts } = (await box.agent.call('status')) as {
      alerts: Array<{ code: string; message: string }>;
    };
    expect(alerts.map((a) => a.code)).toContain('MARKING_OISM_UNAVAILABLE');
    expect(h.receipts()).toHaveLength(1);
  }, 120_000);
});

describe('a MoySklad retail return of marked goods', () => {
  it('takes the code back with status 3 (piece returned), checked by the register like a sale', {
    timeout: 90_000,
  }, async () => {
    await startAgent();
    mock.enqueueOperation({
      name: '00301',
      positions: [{ name: 'Кроссовки', priceKop: 500_000, vat: 22, trackingType: 'SHOES', marks: [SHOES] }],
      cashSum: 500_000,
    });
    await until(() => mock.approvals.length === 1, 'the sale approved', 30_000);
    const refund = mock.enqueueOperation({
      type: 'retailsalesreturn',
      name: '00302',
      positions: [{ name: 'Кроссовки', priceKop: 500_000, vat: 22, trackingType: 'SHOES', marks: [SHOES] }],
      cashSum: 500_000,
    });
    await until(() => mock.approvals.length === 2, 'the return approved', 30_000);
    expect(mock.approvals[1]!.syncId).toBe(refund);
    const [, back] = h.receipts();
    expect(back?.receiptType).toBe(2);
    const positions = (await fnDocumentTlv(h.web, back!.documentNumber))['1059'] as unknown[];
    expect(positions).toMatchObject([{ '1212': 33, '2106': 0x0f, '2110': 3 }]);
  });
});

/**
 * The kill points of a marked sale: the agent is SIGKILLed right after each step the register took (a code's
 * check begun, answered, accepted; the sale submitted; the sale done), then started again. Whatever the
 * moment, the demand ends as exactly one receipt, approved once: the checks make no fiscal document, and
 * the next attempt clears the FN's table and checks again.
 */
const MARKED_SALE_KILLS: Array<{ step: string; task: string; nth: number }> = [
  { step: 'first code: check begun', task: 'beginMarkingCodeValidation', nth: 1 },
  { step: 'first code: check answered', task: 'getMarkingCodeValidationStatus', nth: 1 },
  { step: 'first code accepted', task: 'acceptMarkingCode', nth: 1 },
  { step: 'second code accepted', task: 'acceptMarkingCode', nth: 2 },
  { step: 'the sale ran on the register', task: 'sell', nth: 1 },
];

describe('SIGKILL after each step of a marked sale', () => {
  it.each(MARKED_SALE_KILLS)('$step', { timeout: 90_000 }, async ({ task, nth }) => {
    const sale = enqueueMarkedSale('00201');
    let seen = 0;
    let killed: Promise<void> | undefined;
    h.web.on('task', (event) => {
      if (event.type !== task || event.status !== 'ready' || killed) return;
      seen += 1;
      if (seen === nth) killed = box.agent.kill();
    });
    await startAgent();
    await until(() => killed !== undefined, `the ${task} step`, 30_000);
    await killed;
    await startAgent();
    await until(() => mock.approvals.length === 1, 'the sale approved after the restart', 30_000);
    expect(mock.approvals[0]!.syncId).toBe(sale);
    expect(h.receipts()).toHaveLength(1);
    expect((await jobs()).map((j) => j.state)).toEqual(['REPORTED']);
    expect(mock.rejections).toEqual([]);
    expect(mock.duplicates).toEqual([]);
  });
});
