import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { GS } from '../../src/lib/markingCode.js';
import { type MockLocalModule, startMockLocalModule } from '../localModule/mockServer.js';
import { type MockMoysklad, startMockMoysklad } from '../moysklad/mockServer.js';
import { pairedFile } from '../moysklad/support.js';
import { useAgentBox } from '../support/agentBox.js';
import { runCli, until } from '../support/agentProcess.js';
import { fnDocumentTlv, moyskladWebConfig, startWeb, type WebHarness } from './support.js';

/**
 * The permissive mode's check by the shop's local module (ЛМ ЧЗ), end to end: a real `kkt-agent run`
 * process takes MoySklad retail demands (no permit of their own), asks the mock module on loopback about
 * each code, and sells on an `atol-web` device (the driver-10 facade over the emulated register) with tag
 * 1260 from the module's answer (docs/marking.md, "Permissive mode"). Needs `npm run build`.
 */

const SHOES = `010463003022541621Yu7t_HclAYqqD${GS}91006A${GS}92abcd`;
const CHEESE = `0104680029460908215jcmHzLmkdPML${GS}938p9E`;
/** Codes the mock module forbids (test/localModule/mockServer.ts); the emulated ОИСМ would accept them. */
const BLOCKED = `010463003022541621LMBLOCKED1${GS}91006A${GS}92abcd`;
const EXPIRED = `010463003022541621LMEXPIRED1${GS}91006A${GS}92abcd`;

const box = useAgentBox('kkt-lm-agent-');
let h: WebHarness;
let mock: MockMoysklad;
let lm: MockLocalModule;

interface JobRow {
  id: string;
  state: string;
  /** The failure's message (its code is in `status`). */
  failure?: string;
}

beforeEach(async () => {
  h = await startWeb();
  box.own(h.web);
  mock = box.own(await startMockMoysklad());
  lm = box.own(await startMockLocalModule());
  await writeFile(
    join(box.dir, 'lm.json'),
    JSON.stringify({ username: lm.username, password: lm.password }),
    {
      mode: 0o600,
    },
  );
});

async function startAgent(whenUnavailable: 'refuse' | 'sellWithoutPermit' = 'refuse') {
  const credentialsFile = await pairedFile(mock, box.dir);
  const localModule = {
    url: lm.url,
    apiVersion: 2,
    credentialsFile: join(box.dir, 'lm.json'),
    timeoutMs: 1000,
    whenUnavailable,
  };
  return box.startAgent(
    moyskladWebConfig({ webUrl: h.web.url, moyskladUrl: mock.url, credentialsFile, device: { localModule } }),
  );
}

const jobs = async () => ((await box.agent.call('jobs.list', { limit: 100 })) as { jobs: JobRow[] }).jobs;

const sale = (name: string, marks: [string, string] = [SHOES, CHEESE]) =>
  mock.enqueueOperation({
    name,
    positions: [
      { name: 'Кроссовки', priceKop: 500_000, vat: 22, trackingType: 'SHOES', marks: [marks[0]] },
      { name: 'Сыр', priceKop: 120_000, vat: 22, trackingType: 'MILK', marks: [marks[1]] },
    ],
    cashSum: 620_000,
  });

/** Each position's 1260 as the FN keeps it in the receipt `number`. */
async function requisites(number: number): Promise<unknown[]> {
  const positions = (await fnDocumentTlv(h.web, number))['1059'] as Array<Record<string, unknown>>;
  return positions.map((p) => p['1260']);
}

/** Tag 1265 of the module's check of `cis` (the check the mock answered last for it). */
function attributeOf(cis: string): string {
  const check = lm.checks.filter((c) => cis.startsWith(c.cis)).at(-1)!;
  return `UUID=${check.reqId}&Time=${check.reqTimestamp}&Inst=3b1f0c2e-6d0a-4b7e-9f4e-2a7c5d9e8b10&Ver=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d`;
}

const validations = () => h.requests.filter((r) => r.taskTypes?.includes('beginMarkingCodeValidation'));

describe('the permissive mode: the local module checks a marked sale the cloud did not', () => {
  it('sells with 1260 from its answers, refuses a blocked or expired code before anything prints, and refuses when the module is down', async () => {
    const first = sale('00501');
    await startAgent();
    await until(() => mock.approvals.length === 1, 'the checked sale approved', 30_000);
    expect(mock.approvals[0]!.syncId).toBe(first);
    expect(lm.requests.filter((r) => r.path === '/api/v2/cis/outCheck').map((r) => r.cis)).toEqual([
      '010463003022541621Yu7t_HclAYqqD',
      '0104680029460908215jcmHzLmkdPML',
    ]);
    const [receipt] = h.receipts();
    expect(await requisites(receipt!.documentNumber)).toEqual([
      [{ '1262': '030', '1263': '21.11.2023', '1264': '1944', '1265': attributeOf(SHOES) }],
      [{ '1262': '030', '1263': '21.11.2023', '1264': '1944', '1265': attributeOf(CHEESE) }],
    ]);

    const checksBefore = validations().length;
    const blocked = sale('00502', [SHOES, BLOCKED]);
    const expired = sale('00503', [EXPIRED, CHEESE]);
    await until(() => mock.rejections.length === 2, 'the two forbidden codes refused', 30_000);
    const reasons = Object.fromEntries(mock.rejections.map((r) => [r.syncId, String(r.body.fiscalErrMsg)]));
    expect(reasons[blocked]).toMatch(
      /MARKING_LM_REFUSED.*positions\[1\] "Сыр".*blocked by a government authority/,
    );
    expect(reasons[expired]).toMatch(/MARKING_LM_REFUSED.*positions\[0\] "Кроссовки".*past its expiry date/);
    // Nothing printed, and the register was not even asked to check the codes.
    expect(h.receipts()).toHaveLength(1);
    expect(validations()).toHaveLength(checksBefore);
    const failed = (await jobs()).filter((j) => j.state === 'FAILED');
    expect(failed.map((j) => j.failure).sort()).toEqual([
      expect.stringMatching(/^positions\[0\] "Кроссовки": the item is past its expiry date/),
      expect.stringMatching(
        /^positions\[1\] "Сыр": the sale of this item is blocked by a government authority/,
      ),
    ]);
    const status = await runCli(['status', '--socket', box.socket]);
    expect(status.stdout).toContain('MARKING_LM_REFUSED');
    expect(status.stdout).toMatch(/blocked by a government authority|past its expiry date/);

    // The module goes down: the default offline rule refuses rather than print without a check.
    lm.fault('unreachable');
    const down = sale('00504');
    await until(() => mock.rejections.length === 3, 'the sale refused for want of the module', 30_000);
    expect(mock.rejections[2]!.syncId).toBe(down);
    expect(String(mock.rejections[2]!.body.fiscalErrMsg)).toMatch(/MARKING_LM_UNAVAILABLE.*no answer/);
    // Not initialised is refused the same way, naming its status.
    lm.fault('notReady');
    sale('00505');
    await until(() => mock.rejections.length === 4, 'the sale refused for a module not initialised', 30_000);
    expect(String(mock.rejections[3]!.body.fiscalErrMsg)).toMatch(
      /MARKING_LM_UNAVAILABLE.*status is initialization/,
    );
    // The technician is told the module, not the goods, is the trouble.
    const { alerts, devices } = (await box.agent.call('status')) as {
      alerts: Array<{ code: string; message: string }>;
      devices: Array<{ localModule?: { state: string; status?: string; reason?: string } }>;
    };
    // …and `status` shows the module as the last sale saw it (docs/marking.md, "Checking the module").
    expect(devices[0]!.localModule).toMatchObject({
      state: 'notReady',
      status: 'initialization',
      reason: 'its status is initialization',
    });
    expect(alerts.find((a) => a.code === 'MARKING_LM_UNAVAILABLE')?.message).toMatch(
      /2 bill\(s\) with marked goods refused in the last hour because the local module/,
    );
    expect(alerts.map((a) => a.code)).not.toContain('MARKING_OISM_UNAVAILABLE');
    expect(h.receipts()).toHaveLength(1);
  }, 120_000);

  it('with whenUnavailable = sellWithoutPermit, a sale while the module is down prints without 1260, checked by the register', async () => {
    lm.fault('unreachable');
    const bill = sale('00601');
    await startAgent('sellWithoutPermit');
    await until(() => mock.approvals.length === 1, 'the sale approved without the module', 30_000);
    expect(mock.approvals[0]!.syncId).toBe(bill);
    const [receipt] = h.receipts();
    expect(await requisites(receipt!.documentNumber)).toEqual([undefined, undefined]);
    expect(validations().length).toBeGreaterThan(0);
    expect(box.agent.output()).toContain('device.sale-without-permit');
  }, 90_000);
});

/**
 * The kill points of the module's check: the agent is SIGKILLed while the module holds the check request
 * (asked, not answered), and again after the module answered but before the register checked the code.
 * Either way the demand ends as exactly one receipt, approved once, with 1260 from the check that preceded it.
 */
describe('SIGKILL during the local module check', () => {
  it.each([
    { step: 'the module is asked, not yet answered', on: 'lm' as const },
    { step: 'the module answered, the register not yet asked', on: 'register' as const },
  ])('$step', { timeout: 90_000 }, async ({ on }) => {
    const bill = sale('00701');
    let killed: Promise<void> | undefined;
    if (on === 'lm') {
      lm.fault('slow');
      lm.slowMs = 800;
      lm.on('request', (r) => {
        if (r.path.endsWith('/cis/outCheck') && !killed) killed = box.agent.kill();
      });
    } else {
      h.web.on('task', (event) => {
        if (event.type === 'beginMarkingCodeValidation' && !killed) killed = box.agent.kill();
      });
    }
    await startAgent();
    await until(() => killed !== undefined, `the kill at: ${on}`, 30_000);
    await killed;
    lm.fault(undefined);
    await startAgent();
    await until(() => mock.approvals.length === 1, 'the sale approved after the restart', 30_000);
    expect(mock.approvals[0]!.syncId).toBe(bill);
    expect(h.receipts()).toHaveLength(1);
    expect((await jobs()).map((j) => j.state)).toEqual(['REPORTED']);
    expect(mock.rejections).toEqual([]);
    expect(mock.duplicates).toEqual([]);
    const [receipt] = h.receipts();
    expect(await requisites(receipt!.documentNumber)).toEqual([
      [expect.objectContaining({ '1265': attributeOf(SHOES) })],
      [expect.objectContaining({ '1265': attributeOf(CHEESE) })],
    ]);
  });
});
