import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildBill, buildPosition } from '../../domain/bill.js';
import type { Job } from '../../jobs/job.js';
import { nonfiscalDeviceSchema } from './config.js';
import {
  createNonfiscalDevice,
  NONFISCAL_COUNTER_FILE,
  NonfiscalDevice,
  receiptFileName,
} from './nonfiscalDevice.js';
import { formatAmount } from './receiptText.js';

const logger = pino({ level: 'silent' });
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-nonfiscal-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function job(id: string, currency = 'UZS'): Job {
  const bill = buildBill({
    source: 'oxsystem',
    account: 'main',
    billId: id,
    number: `S-${id}`,
    currency,
    positions: [
      buildPosition({ name: 'Спортивный костюм', priceMinor: 120_000, quantityMilli: 1000, vat: 'none' }),
      buildPosition({
        name: 'Яблоки',
        priceMinor: 18_000,
        quantityMilli: 1500,
        vat: 'vat20',
        unit: 'kilogram',
      }),
    ],
    payments: 'cash',
  });
  return {
    id,
    key: `oxsystem/main/${id}`,
    seq: 1,
    bill,
    summary: { source: 'oxsystem', account: 'main', billId: id, totalMinor: bill.totalMinor, currency },
    operation: 'sell',
    deviceId: 'np1',
    state: 'PRINTING',
    receivedAt: '',
    updatedAt: '',
    trigger: { kind: 'test' },
    attempts: 1,
  };
}

async function device(options: { currencies?: string[] } = {}) {
  const d = new NonfiscalDevice({
    id: 'np1',
    directory: join(dir, 'receipts'),
    timeZone: 'Asia/Tashkent',
    logger,
    now: () => Date.parse('2025-06-01T05:00:00.400Z'),
    header: ['OOO "Magazin"'],
    ...(options.currencies ? { currencies: options.currencies } : {}),
  });
  await d.start();
  return d;
}

describe('NonfiscalDevice', () => {
  it('writes one plain-text receipt file per job and returns FiscalData without fiscal attributes', async () => {
    const d = await device();
    const fiscal = await d.print(job('job0000aaaa1'));
    expect(fiscal).toEqual({
      deviceId: 'np1',
      deviceKind: 'nonfiscal',
      dateTime: '2025-06-01T10:00:00+05:00',
      dateTimeUtc: '2025-06-01T05:00:00.000Z',
      receiptNumber: '1',
      totalMinor: 147_000,
      extra: { fiscal: 'no', file: '00000001-job0000aaaa1.txt' },
    });
    expect(fiscal.fiscalDocumentNumber).toBeUndefined();
    const text = await readFile(join(dir, 'receipts', '00000001-job0000aaaa1.txt'), 'utf8');
    expect(text).toContain('NON-FISCAL RECEIPT');
    expect(text).toContain('Not a fiscal document');
    expect(text).toContain('OOO "Magazin"');
    expect(text).toMatch(/1\.5 kilogram x 18 000\s+27 000/);
    expect(text).toMatch(/incl\. VAT 20%\s+4 500/);
    expect(text).toMatch(/TOTAL\s+147 000 UZS/);
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      '#kkt-agent device=np1 job=job0000aaaa1 receipt=1 time=2025-06-01T10:00:00+05:00 total=147000 currency=UZS',
    );
  });

  it('numbers receipts on, across restarts, and recovers the counter from the file names', async () => {
    const first = await device();
    await first.print(job('job0000aaaa1'));
    await first.print(job('job0000aaaa2'));
    await first.stop();
    const second = await device();
    expect(second.lastReceiptNumber).toBe(2);
    expect((await second.print(job('job0000aaaa3'))).receiptNumber).toBe('3');
    await second.stop();
    // A lost counter file: the names still carry the numbers.
    await rm(join(dir, 'receipts', NONFISCAL_COUNTER_FILE));
    const third = await device();
    expect((await third.print(job('job0000aaaa4'))).receiptNumber).toBe('4');
    expect(JSON.parse(await readFile(join(dir, 'receipts', NONFISCAL_COUNTER_FILE), 'utf8'))).toEqual({
      lastReceiptNumber: 4,
    });
  });

  it("reconciles by the job's receipt file: there is printed, absent is not printed", async () => {
    const d = await device();
    const printed = await d.print(job('job0000aaaa1'));
    expect(await d.reconcile(job('job0000aaaa1'))).toEqual({ kind: 'fiscalized', fiscal: printed });
    expect(await d.reconcile(job('job0000bbbb2'))).toMatchObject({ kind: 'not-printed' });
    // A second print of the same job returns the receipt it has instead of writing another.
    expect(await d.print(job('job0000aaaa1'))).toEqual(printed);
    expect((await readdir(join(dir, 'receipts'))).filter((n) => n.endsWith('.txt'))).toHaveLength(1);
  });

  it('reconciles a receipt file whose trailer was edited away by its name', async () => {
    const d = await device();
    await d.print(job('job0000aaaa1'));
    await writeFile(join(dir, 'receipts', receiptFileName(1, 'job0000aaaa1')), 'edited by hand\n');
    const outcome = await d.reconcile(job('job0000aaaa1'));
    expect(outcome).toMatchObject({
      kind: 'fiscalized',
      fiscal: { receiptNumber: '1', totalMinor: 147_000 },
    });
  });

  it('accepts any configured currency and refuses others for good', async () => {
    const d = await device({ currencies: ['UZS'] });
    await expect(d.print(job('job0000aaaa1', 'RUB'))).rejects.toMatchObject({
      code: 'DEVICE_CURRENCY_UNSUPPORTED',
      retryable: false,
    });
    const any = await device();
    expect((await any.print(job('job0000aaaa2', 'RUB'))).totalMinor).toBe(147_000);
    expect(formatAmount(147_000, 'RUB')).toBe('1 470.00');
    expect(formatAmount(147_000, 'UZS')).toBe('147 000');
  });

  it('refuses retryably while its directory is unusable', async () => {
    await writeFile(join(dir, 'blocker'), 'a file where the directory should be');
    const d = new NonfiscalDevice({
      id: 'np1',
      directory: join(dir, 'blocker', 'receipts'),
      timeZone: 'UTC',
      logger,
    });
    await d.start();
    expect(d.ready).toBe(false);
    await expect(d.print(job('job0000aaaa1'))).rejects.toMatchObject({
      code: 'NONFISCAL_NOT_READY',
      retryable: true,
    });
    expect((await d.snapshot()).lastError?.code).toBe('NONFISCAL_DIRECTORY');
  });

  it('has no shifts and no cash operations', async () => {
    const d = await device();
    for (const operation of [d.openShift(), d.closeShift(), d.reportX(), d.cashIn(100), d.cashOut(100)]) {
      await expect(operation).rejects.toMatchObject({ code: 'DEVICE_OPERATION_UNSUPPORTED' });
    }
    expect(await d.snapshot()).toMatchObject({
      kind: 'nonfiscal',
      online: true,
      details: { fiscal: false, lastReceiptNumber: 0 },
    });
  });

  it('is configured by nonfiscalDeviceSchema, with its directory under the data directory by default', () => {
    const config = nonfiscalDeviceSchema.parse({ id: 'np1', kind: 'nonfiscal' });
    expect(config).toEqual({
      id: 'np1',
      kind: 'nonfiscal',
      currencies: ['RUB', 'BYN', 'UZS'],
      header: [],
      lineWidth: 42,
    });
    const created = createNonfiscalDevice(config, {
      dataDir: '/var/lib/kkt-agent',
      timeZone: 'Asia/Tashkent',
      logger,
    });
    expect(created.directory).toBe('/var/lib/kkt-agent/nonfiscal/np1');
    expect(created.currencies).toEqual(['RUB', 'BYN', 'UZS']);
    expect(
      nonfiscalDeviceSchema.safeParse({ id: 'np1', kind: 'nonfiscal', currencies: ['XYZ'] }).success,
    ).toBe(false);
  });
});
