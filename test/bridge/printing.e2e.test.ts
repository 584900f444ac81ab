import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTlv, tlvText } from '../../src/drivers/atol/protocol/tlv.js';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import {
  type MockBillJson,
  type MockBridge,
  SEED_BILLS,
  startMockBridge,
} from '../../src/emulators/bridge/index.js';
import { type AgentProcess, startAgentInDir, until } from '../support/agentProcess.js';
import { ACCOUNT_120_IDS, RECEIPT_346042, RECEIPT_346044 } from './fixtures/seed000.js';

/**
 * The seed bills and the typography of real catalogues, printed by a real `kkt-agent run` on the ATOL
 * emulator from the mock bridge: the register prints CP866, the cloud gets the names byte for byte as the
 * bridge sent them, and control characters or a 2026 bill at 20 % print nothing.
 */

const TZ = 'Europe/Moscow';
const CASHIER = 'Кассир Смена 1';

const customer = {
  id: 77,
  inn: '',
  kpp: '',
  reg: '',
  name: 'Покупатель ',
  okpo: '',
  fullname: 'Покупатель ',
  legalentity: false,
};
const grams = (id: number, prodname: string, price: number, quantity: number): MockBillJson => ({
  id,
  type: 'NORMAL',
  price,
  taxrate: '5%',
  itemType: 1,
  prodname,
  quantity,
  unitname: 'Грамм',
});

/** The tea shop's bill of the issue: VAT 5 %, three items by the gram, names full of typography; paid in cash. */
const TEA_NAMES = [
  'Чай «Да Хун Пао» — улун, развес',
  '“Те Гуань Инь” – 1-й сорт…',
  'Пуэр\u00a0«Шу» 2019 г. ‘выдержанный’',
];
const TEA_ID = 500101;
const CONTROL_ID = 500102;
const VAT20_ID = 500103;
const TEA_BILL: MockBillJson = {
  id: TEA_ID,
  date: '2026-03-22 12:10:00',
  summ: 1049.75 + 3 * 8.4 * 10 + 21.5 * 50,
  number: 'ЧАЙ-101',
  customer,
  products: [
    grams(1, TEA_NAMES[0]!, 12.35, 85),
    grams(2, TEA_NAMES[1]!, 8.4, 30),
    grams(3, TEA_NAMES[2]!, 21.5, 50),
  ],
  prepayment: 0,
  prepaymentEnable: true,
  paymentSource: 'PAY_CASH',
};
const CONTROL_BILL: MockBillJson = {
  ...TEA_BILL,
  id: CONTROL_ID,
  number: 'ЧАЙ-102',
  summ: 1049.75,
  products: [grams(1, 'Чай улун\u001b[2J, развес', 12.35, 85)],
};
const VAT20_BILL: MockBillJson = {
  ...TEA_BILL,
  id: VAT20_ID,
  number: 'ЧАЙ-103',
  summ: 6.03,
  products: [{ ...grams(1, 'Спички', 6.03, 1), taxrate: '20%', unitname: 'Штука' }],
};

let dir: string;
let emulator: AtolEmulator;
let bridge: MockBridge;
let agent: AgentProcess;
const receipts: JournalEntry[] = [];

interface ShownJob {
  payment?: { types: string[]; from?: string };
  job: { state: string; key: string; failure?: { code: string; field?: string; message: string } };
}
const jobKey = (billId: number | string) => `bridge/120/${billId}`;
async function jobFor(billId: number | string): Promise<ShownJob | undefined> {
  const { jobs } = (await agent.call('jobs.list', { limit: 100 })) as {
    jobs: Array<{ id: string; key: string }>;
  };
  const row = jobs.find((j) => j.key === jobKey(billId));
  return row && ((await agent.call('jobs.show', { id: row.id })) as ShownJob);
}
const eventFor = (billId: number | string) =>
  bridge.receipts
    .map((r) => r.body as { data: { extras: { billId: string }; items: Array<{ name: string }> } })
    .find((body) => body.data.extras.billId === String(billId));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-bridge-print-'));
  emulator = await startAtolEmulator({ port: 0, persist: false, timeZone: TZ, asyncLatencyMs: 2 });
  emulator.on('document', (entry) => {
    if (entry.kind === 'receipt') receipts.push(entry);
  });
  bridge = await startMockBridge({
    port: 0,
    timeZone: TZ,
    bills: [...SEED_BILLS, TEA_BILL, CONTROL_BILL, VAT20_BILL],
  });
  agent = await startAgentInDir(dir, {
    timeZone: TZ,
    devices: [
      {
        id: 'kkt',
        kind: 'atol',
        link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
        operator: { name: CASHIER },
        taxationType: 'usnIncome',
        taxBytes: EMULATOR_EXTRA_TAX_BYTES,
      },
    ],
    outbox: { initialBackoffMs: 100, maxBackoffMs: 400 },
    connectors: {
      bridge: [
        {
          id: '120',
          baseUrl: bridge.url,
          autoFiscalize: { enabled: true, intervalMs: 200 },
          defaultPayment: 'card',
          ids: ACCOUNT_120_IDS,
        },
      ],
    },
  });
  await until(async () => {
    const states = await Promise.all(
      [346042, 346044, TEA_ID, CONTROL_ID, VAT20_ID].map(async (id) => (await jobFor(String(id)))?.job.state),
    );
    return states.join() === 'REPORTED,REPORTED,REPORTED,FAILED,FAILED';
  }, 'three bills reported, two refused');
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await bridge?.close();
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the seed bills print, and their events are the logged ones', () => {
  for (const logged of [RECEIPT_346042, RECEIPT_346044]) {
    const expected = JSON.parse(logged) as { data: { extras: { billId: string } } };
    const billId = expected.data.extras.billId;

    it(`bill ${billId}: byte for byte, except the event's own ids, its time and the register's shift`, () => {
      const event = bridge.receipts.find(
        (r) => (r.body as { data: { extras: { billId: string } } }).data.extras.billId === billId,
      );
      expect(event).toBeDefined();
      const mask = (text: string) =>
        text
          .replace(/"id":"[0-9a-f-]{36}"/g, '"id":"<uuid>"')
          .replace(/"dateTime":"[^"]+"/, '"dateTime":"<time>"')
          .replace(/"shiftId":"\d+"/, '"shiftId":"<shift>"')
          .replace(/"timestamp":\d+/, '"timestamp":<ms>');
      expect(mask(event!.text)).toBe(mask(logged));
    });
  }

  it('prints each seed position under its own name, and names the cashier on every receipt', () => {
    const seedNames = SEED_BILLS.flatMap((bill) =>
      (bill.products as Array<{ prodname: string }>).map((p) => p.prodname),
    );
    const printed = receipts.flatMap((receipt) => receipt.items?.map((item) => item.name) ?? []);
    expect(printed).toEqual(expect.arrayContaining(seedNames));
    const receiptDocuments = emulator.device.documents.filter((document) => document.type === 3);
    expect(receiptDocuments).toHaveLength(3);
    for (const document of receiptDocuments) expect(tlvText(findTlv(document.tlvs, 1021))).toBe(CASHIER);
  });
});

describe('typography the register lacks', () => {
  it('prints « » — “ ” ‘ ’ … and a no-break space as " - \' ... and a space; the report keeps the bridge’s names', () => {
    const tea = receipts.find(
      (receipt) => receipt.items?.length === 3 && receipt.items[0]!.name.startsWith('Чай'),
    );
    expect(tea?.items?.map((item) => item.name)).toEqual([
      'Чай "Да Хун Пао" - улун, развес',
      '"Те Гуань Инь" - 1-й сорт...',
      'Пуэр "Шу" 2019 г. \'выдержанный\'',
    ]);
    expect(tea?.items?.map((item) => item.tax)).toEqual(['vat5', 'vat5', 'vat5']);
    const event = eventFor(TEA_ID);
    expect(event?.data.items.map((item) => item.name)).toEqual(TEA_NAMES);
    // Byte-equal, not just equal after some normalisation of our own.
    expect(event?.data.items.map((item) => Buffer.from(item.name))).toEqual(
      TEA_NAMES.map((name) => Buffer.from(name)),
    );
  });

  it("is paid as the bill's own paymentSource says (cash), and jobs show says where that came from", async () => {
    const shown = await jobFor(TEA_ID);
    expect(shown?.payment).toMatchObject({ types: ['cash'], from: 'bill' });
    const tea = receipts.find((receipt) => receipt.items?.[0]?.name.startsWith('Чай "Да'));
    expect(tea?.payments?.map((p) => p.paymentType)).toEqual([1]);
    expect((eventFor(TEA_ID) as unknown as { data: { paymentSource: string } }).data.paymentSource).toBe(
      'PAY_CASH',
    );
    expect((await jobFor(346044))?.payment).toMatchObject({ types: ['card'], from: 'default' });
  });
});

describe('refusals: nothing prints, the job names the field', () => {
  it('a control character in a name', async () => {
    const failure = (await jobFor(CONTROL_ID))?.job.failure;
    expect(failure).toMatchObject({ code: 'TEXT_CONTROL_CHARACTER', field: 'products[0].prodname' });
    expect(receipts.some((receipt) => receipt.items?.some((item) => item.name.includes('улун\u001b')))).toBe(
      false,
    );
    expect(eventFor(CONTROL_ID)).toBeUndefined();
  });

  it('20 % on a settlement in 2026, with the rule named', async () => {
    const failure = (await jobFor(VAT20_ID))?.job.failure;
    expect(failure).toMatchObject({ code: 'VAT_RATE_NOT_ALLOWED', field: 'positions[0].vat' });
    expect(failure?.message).toContain('"Спички"');
    expect(failure?.message).toContain('425-FZ');
    expect(receipts.some((receipt) => receipt.items?.some((item) => item.name === 'Спички'))).toBe(false);
    expect(receipts).toHaveLength(3);
  });
});
