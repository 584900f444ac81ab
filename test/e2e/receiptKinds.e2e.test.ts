import { beforeAll, describe, expect, it } from 'vitest';
import { type Bill, buildPosition } from '../../src/agent/domain/bill.js';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
} from '../../src/emulators/atol/index.js';
import { useAgentBox } from '../support/agentBox.js';
import { runCli, until } from '../support/agentProcess.js';
import { frontBill, tea } from '../support/bills.js';
import { atolDevice } from '../support/shopConfig.js';

/**
 * Every receipt kind through the real daemon to the emulated ATOL register (protocol v3): a sale with
 * change, its returns (whole, part, refused when over what was sold), a purchase, a correction of a
 * settlement the register refused, and an advance with its final receipt — each with the register's own
 * document, and every bad request a typed error naming the field, with nothing printed.
 */

// One daemon for the file: each test goes on from the documents the one before printed.
const box = useAgentBox('kkt-kinds-', { lifetime: 'file' });
let atol: AtolEmulator;
const journal: JournalEntry[] = [];

interface JobView {
  id: string;
  state: string;
  kind: string;
  failure?: string;
}

interface Shown {
  job: {
    state: string;
    operation: string;
    fiscal?: { fiscalDocumentNumber?: number };
    failure?: { code: string; field?: string };
  };
  kind: { name: string; title: string };
  links: { from: Array<{ kind: string; target: string }>; to: Array<{ kind: string; jobId: string }> };
  payment?: { changeMinor?: number };
}

const show = (id: string) => box.agent.call('jobs.show', { id }) as Promise<Shown>;

const printed = (id: string) =>
  until(async () => {
    const { job } = await show(id);
    if (job.state === 'FAILED' || job.state === 'BLOCKED') throw new Error(`job ${id} is ${job.state}`);
    return job.state === 'FISCALIZED' || job.state === 'REPORTED' ? job : undefined;
  }, `job ${id} printed`);

const documents = () => atol.device.documents;

const bill = (billId: string, extra: Partial<Bill> = {}, positions = [tea(2000)]): Bill =>
  frontBill(billId, positions, { payments: 'cash', ...extra });

const submit = async (b: Bill, kind?: string) =>
  ((await box.agent.call('fiscalize', { bill: b, ...(kind ? { kind } : {}) })) as { job: JobView }).job;

async function refused(call: Promise<unknown>): Promise<{ code: string; details: Record<string, unknown> }> {
  const error = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code: string; details: Record<string, unknown> } | undefined;
  if (!error) throw new Error('expected the request to be refused');
  return error;
}

beforeAll(async () => {
  atol = await box.startRegister();
  atol.on('document', (entry) => journal.push(entry));
  await box.startAgent({ devices: [atolDevice(atol.port)] });
});

describe('receipt kinds through the daemon', () => {
  let saleId: string;

  it('prints a sale paid with more cash than its total: the register gives the change', async () => {
    const sale = bill('s1', { payments: [{ type: 'cash', amountMinor: 60_000 }] } as Partial<Bill>, [
      tea(2000),
      tea(1000),
    ]);
    const job = await submit(sale);
    saleId = job.id;
    await printed(job.id);
    expect(documents().at(-1)).toMatchObject({ type: 3 });
    expect(journal.at(-1)).toMatchObject({ receiptType: 1, totalKop: 37_500, changeKop: 22_500 });
    expect((await show(job.id)).payment?.changeMinor).toBe(22_500);
  });

  it('returns part of the sale from the CLI, then refuses a return of more than is left; nothing prints for it', async () => {
    const cli = await runCli(['refund', saleId, '--positions', '1:1.5', '--socket', box.socket, '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const first = JSON.parse(cli.stdout) as { job: JobView };
    expect(first.job.kind).toBe('sellReturn');
    await printed(first.job.id);
    expect(journal.at(-1)).toMatchObject({ receiptType: 2, totalKop: 18_750 });
    const shown = await show(first.job.id);
    expect(shown.kind.name).toBe('sellReturn');
    expect(shown.links.from).toContainEqual(expect.objectContaining({ kind: 'return', target: saleId }));
    expect((await show(saleId)).links.to).toContainEqual(
      expect.objectContaining({ kind: 'return', jobId: first.job.id }),
    );

    const count = documents().length;
    const over = await runCli(['refund', saleId, '--positions', '1:1', '--socket', box.socket]);
    expect(over.code).not.toBe(0);
    expect(over.stderr).toMatch(/positions\[0\]\.quantityMilli.*RETURN_EXCEEDS_SALE/s);
    // The rest of the sale still goes back in one return; then nothing is left.
    const rest = (await box.agent.call('refund', {
      jobId: saleId,
      payment: 'cash',
      positions: [{ index: 0, quantityMilli: 500 }, { index: 1 }],
    })) as { job: JobView };
    await printed(rest.job.id);
    const none = await refused(
      box.agent.call('refund', { jobId: saleId, positions: [{ index: 1, quantityMilli: 1 }] }),
    );
    expect(none).toMatchObject({ code: 'RETURN_EXCEEDS_SALE' });
    expect(documents().length).toBe(count + 1);
  });

  it('prints a purchase (расход) from an inline bill with kind buy', async () => {
    // Paid by card: a cash purchase needs the drawer to hold its amount, and the returns emptied it.
    const job = await submit(bill('b1', { payments: 'card' } as unknown as Partial<Bill>), 'buy');
    expect(job.kind).toBe('buy');
    await printed(job.id);
    expect(journal.at(-1)).toMatchObject({ receiptType: 4 });
  });

  it('corrects a settlement the register refused (never receipted): FD 31 with 1173/1174; a second correction and one without a date are refused', async () => {
    atol.setFault('refuseTaxCode', EMULATOR_EXTRA_TAX_BYTES.vat22);
    const failed = await submit(bill('c1'));
    await until(async () => (await show(failed.id)).job.state === 'FAILED' || undefined, 'FAILED');
    atol.clearFaults();
    const count = documents().length;

    const noDate = await refused(box.agent.call('correct', { jobId: failed.id }));
    expect(noDate.details).toMatchObject({ field: 'correction.baseDate' });
    expect(documents().length).toBe(count);

    const cli = await runCli([
      'correct',
      failed.id,
      '--date',
      '2026-12-01',
      '--socket',
      box.socket,
      '--json',
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    const correction = JSON.parse(cli.stdout) as { job: JobView };
    expect(correction.job.kind).toBe('sellCorrection');
    const job = await printed(correction.job.id);
    const fd = documents().at(-1)!;
    expect(fd).toMatchObject({ type: 31, number: job.fiscal?.fiscalDocumentNumber });
    // 1173 = 0 (self-initiated) and 1174 holding 1178 in the register's own document.
    expect(fd.tlvs.find((t) => t.tag === 1173)?.value).toEqual(Buffer.of(0));
    expect(fd.tlvs.some((t) => t.tag === 1174)).toBe(true);
    expect(journal.at(-1)).toMatchObject({ receiptType: 7 });
    expect((await show(correction.job.id)).links.from).toContainEqual(
      expect.objectContaining({ kind: 'correction', target: failed.id }),
    );

    const again = await refused(box.agent.call('correct', { jobId: failed.id, date: '2026-12-01' }));
    expect(again).toMatchObject({ code: 'SETTLEMENT_ALREADY_CORRECTED' });
    expect(documents().length).toBe(count + 1);
  });

  it('prints an advance at 22/122 and its final receipt paid by it; refuses an advance at 22 % and an offset over what was prepaid', async () => {
    const advancePosition = buildPosition({
      name: 'Аванс по заказу 17',
      priceMinor: 25_000,
      quantityMilli: 1000,
      vat: 'vat122',
      paymentMethod: 'advance',
      paymentObject: 'payment',
    });
    const advance = await submit(bill('a1', { order: 'O-17' } as Partial<Bill>, [advancePosition]));
    await printed(advance.id);
    expect(journal.at(-1)?.items?.[0]).toMatchObject({ paymentMethod: 3, paymentObject: 10, tax: 'vat122' });

    const count = documents().length;
    const wrongRate = await submit(
      bill('a2', { order: 'O-18' } as Partial<Bill>, [{ ...advancePosition, vat: 'vat22' }]),
    );
    const failed = await show(wrongRate.id);
    expect(failed.job).toMatchObject({
      state: 'FAILED',
      failure: { code: 'ADVANCE_VAT_NOT_CALCULATED', field: 'positions[0].vat' },
    });

    const over = await submit(
      bill('f0', { order: 'O-17', payments: [{ type: 'prepaid', amountMinor: 37_500 }] } as Partial<Bill>, [
        tea(3000),
      ]),
    );
    expect((await show(over.id)).job).toMatchObject({
      state: 'FAILED',
      failure: { code: 'OFFSET_EXCEEDS_PREPAID' },
    });
    expect(documents().length).toBe(count);

    const final = await submit(
      bill(
        'f1',
        {
          order: 'O-17',
          payments: [
            { type: 'prepaid', amountMinor: 25_000 },
            { type: 'cash', amountMinor: 12_500 },
          ],
        } as Partial<Bill>,
        [tea(3000)],
      ),
    );
    await printed(final.id);
    expect(journal.at(-1)?.payments).toEqual(expect.arrayContaining([{ paymentType: 3, sumKop: 25_000 }]));
    expect((await show(final.id)).links.from).toContainEqual(expect.objectContaining({ kind: 'offset' }));
    const status = (await box.agent.call('status')) as { jobs?: { links?: Record<string, number> } };
    expect(JSON.stringify(status)).toContain('"offset":1');
  });
});
