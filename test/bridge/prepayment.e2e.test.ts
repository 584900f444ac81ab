import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeVln, findTlv } from '../../src/drivers/atol/protocol/tlv.js';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { type MockBillJson, type MockBridge, startMockBridge } from '../../src/emulators/bridge/index.js';
import { type AgentProcess, startAgentInDir, until } from '../support/agentProcess.js';

/**
 * A bill with a non-zero `prepayment` under each policy (docs/bridge.md, "prepayment"), through a real
 * `kkt-agent run`: `refuse` (the default) fails the job naming the field and prints nothing;
 * `offsetElsewhere` prints a final settlement paying the prepayment as «prepaid» (1215) and the rest as
 * the bill says, and reports the prepayment back in the event.
 */

const TZ = 'Europe/Moscow';

/** The seed's tea bill (A.10) with 300.00 of it paid in advance. */
const PREPAID_BILL: MockBillJson = {
  id: 7001,
  date: '2026-03-22 12:10:00',
  summ: 1049.75,
  number: '7001-CRM',
  customer: {
    id: 55,
    inn: '',
    kpp: '',
    reg: '',
    name: 'Пётр Иванов ',
    okpo: '',
    fullname: 'Пётр Иванов ',
    legalentity: false,
  },
  products: [
    {
      id: 901,
      type: 'NORMAL',
      price: 12.35,
      taxrate: '5%',
      itemType: 1,
      prodname: 'Чай улун, развес',
      quantity: 85,
      unitname: 'Грамм',
    },
  ],
  prepayment: 300,
  prepaymentEnable: true,
  paymentSource: 'PAY_CASH',
};

let dir: string;
let emulator: AtolEmulator;
let refusing: MockBridge;
let offsetting: MockBridge;
let agent: AgentProcess;
const receipts: JournalEntry[] = [];

interface ShownJob {
  job: { state: string; failure?: { code: string; field?: string } };
}

async function jobOf(account: string): Promise<ShownJob | undefined> {
  const { jobs } = (await agent.call('jobs.list', { limit: 100 })) as {
    jobs: Array<{ id: string; key: string }>;
  };
  const row = jobs.find((j) => j.key === `bridge/${account}/7001`);
  return row && ((await agent.call('jobs.show', { id: row.id })) as ShownJob);
}

const account = (id: string, bridge: MockBridge, extra: Record<string, unknown> = {}) => ({
  id,
  baseUrl: bridge.url,
  autoFiscalize: { enabled: true, intervalMs: 200 },
  ...extra,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-bridge-prepayment-'));
  emulator = await startAtolEmulator({ port: 0, persist: false, timeZone: TZ, asyncLatencyMs: 2 });
  emulator.on('document', (entry) => {
    if (entry.kind === 'receipt') receipts.push(entry);
  });
  refusing = await startMockBridge({ port: 0, timeZone: TZ, bills: [PREPAID_BILL] });
  offsetting = await startMockBridge({ port: 0, timeZone: TZ, bills: [PREPAID_BILL] });
  agent = await startAgentInDir(dir, {
    timeZone: TZ,
    devices: [
      {
        id: 'kkt',
        kind: 'atol',
        link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
        operator: { name: 'Кассир' },
        taxationType: 'usnIncome',
        taxBytes: EMULATOR_EXTRA_TAX_BYTES,
      },
    ],
    outbox: { initialBackoffMs: 100, maxBackoffMs: 400 },
    connectors: {
      bridge: [account('refuse', refusing), account('offset', offsetting, { prepayment: 'offsetElsewhere' })],
    },
  });
  await until(async () => {
    const states = await Promise.all(['refuse', 'offset'].map(async (a) => (await jobOf(a))?.job.state));
    return states.join() === 'FAILED,REPORTED';
  }, 'one refused, one reported');
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await refusing?.close();
  await offsetting?.close();
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a bridge bill with a prepayment', () => {
  it('policy refuse (the default): the job fails on the field prepayment; nothing prints, nothing is reported', async () => {
    expect((await jobOf('refuse'))?.job.failure).toMatchObject({ field: 'prepayment' });
    expect(refusing.receipts).toEqual([]);
    expect(receipts).toHaveLength(1);
  });

  it('policy offsetElsewhere: a final settlement, 300.00 prepaid (1215) and 749.75 cash; the event echoes it', () => {
    const [receipt] = receipts;
    expect(receipt).toMatchObject({ receiptType: 1, totalKop: 104_975 });
    expect(receipt?.items?.[0]).toMatchObject({ paymentMethod: 4 });
    expect(receipt?.payments).toEqual([
      { paymentType: 3, sumKop: 30_000 },
      { paymentType: 1, sumKop: 74_975 },
    ]);
    const fd = emulator.device.document(receipt!.documentNumber)!;
    expect(decodeVln(findTlv(fd.tlvs, 1215)!)).toBe(30_000);
    const [event] = offsetting.receipts.map(
      (r) =>
        r.body as { data: { extras: { prepayment: number }; paymentSource: string; totalAmount: number } },
    );
    expect(event?.data.extras.prepayment).toBe(300);
    expect(event?.data.totalAmount).toBe(1049.75);
    expect(event?.data.paymentSource).toBe('PAY_CASH');
  });
});
