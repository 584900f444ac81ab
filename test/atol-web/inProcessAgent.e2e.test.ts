import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { AtolWebDevice } from '../../src/agent/devices/atolWeb/atolWebDevice.js';
import { buildBill, buildPosition, type VatType } from '../../src/agent/domain/index.js';
import type { Job, JobState } from '../../src/agent/jobs/job.js';
import { sampleBill } from '../support/bills.js';
import { RecordingSink } from '../support/recordingSink.js';
import { untilWith } from '../support/until.js';
import { startWeb, TZ, type WebHarness } from './support.js';

/**
 * The `atol-web` device inside a real Agent (journal, fiscalizer, outbox) against the web facade: bills
 * become receipts exactly once, and every ambiguous case is reconciled to one fiscal document.
 */

const logger = pino({ level: 'silent' });
/** Web faults aimed at the receipt, not at the reads around it. */
const RECEIPTS = { taskTypes: ['sell', 'sellReturn'] };
let dir: string;
let h: WebHarness;
let agent: Agent | undefined;
let device: AtolWebDevice;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-atol-web-'));
  h = await startWeb();
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await h.web.close();
  await rm(dir, { recursive: true, force: true });
  expect(h.warnings).toEqual([]);
});

async function openAgent(options: { now?: () => Date } = {}): Promise<Agent> {
  device = new AtolWebDevice({
    ...options,
    id: 'kkt',
    server: {
      url: h.web.url,
      pollIntervalMs: 10,
      requestTimeoutMs: 2000,
      taskTimeoutMs: 3000,
      timeZone: TZ,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    },
    receiptDefaults: { operator: { name: 'Кассир' }, taxationType: 'usnIncome' },
    logger,
  });
  agent = await Agent.open({
    dataDir: dir,
    logger,
    devices: [device],
    connectors: [],
    sinks: [new RecordingSink()],
    router: () => 'kkt',
    fiscalizer: { retryDelayMs: 20, maxRetryDelayMs: 50, maxAttempts: 10, stopTimeoutMs: 2000 },
    outbox: { initialBackoffMs: 10, maxBackoffMs: 40 },
  });
  await agent.start();
  return agent;
}

const until = untilWith({ timeoutMs: 8000, intervalMs: 10 });

const stateOf = (id: string): JobState | undefined => agent?.jobs.get(id)?.state;

async function submit(billId: string): Promise<Job> {
  const { job } = await agent!.intake.submit({
    bill: sampleBill(billId, { positions: 5 }),
    trigger: { kind: 'test' },
  });
  return job;
}

async function fiscalized(job: Job): Promise<Job> {
  await until(() => ['FISCALIZED', 'REPORTED'].includes(stateOf(job.id) ?? ''), `${job.id} fiscalized`);
  return agent!.jobs.get(job.id)!;
}

describe('text and VAT on the driver-10 register (same CP866 as the protocol one)', () => {
  const MARCH_2026 = () => new Date('2026-03-22T09:00:00Z');
  const billOf = (billId: string, names: string[], vat: VatType = 'vat5') =>
    buildBill({
      source: 'test',
      account: 'a1',
      billId,
      number: billId,
      currency: 'RUB',
      positions: names.map((name) =>
        buildPosition({ name, priceMinor: 1235, quantityMilli: 85_000, unit: 'gram', vat }),
      ),
      payments: 'card',
    });

  it('prints « » — “ ” … as " - ..., while the job keeps the original names', async () => {
    await openAgent({ now: MARCH_2026 });
    const names = ['Чай «Да Хун Пао» — улун', '“Те Гуань Инь” – 1-й сорт…'];
    const { job } = await agent!.intake.submit({ bill: billOf('tea', names), trigger: { kind: 'test' } });
    const done = await fiscalized(job);
    expect(h.receipts()[0]?.items?.map((item) => item.name)).toEqual([
      'Чай "Да Хун Пао" - улун',
      '"Те Гуань Инь" - 1-й сорт...',
    ]);
    expect(done.bill?.positions.map((p) => p.name)).toEqual(names);
  });

  it('refuses 20 % on a 2026 settlement naming the position and the rule; nothing reaches the register', async () => {
    await openAgent({ now: MARCH_2026 });
    const { job } = await agent!.intake.submit({
      bill: billOf('vat20', ['Спички'], 'vat20'),
      trigger: { kind: 'test' },
    });
    await until(() => stateOf(job.id) === 'FAILED', 'refused');
    expect(agent!.jobs.get(job.id)?.failure).toMatchObject({
      code: 'VAT_RATE_NOT_ALLOWED',
      field: 'positions[0].vat',
    });
    expect(agent!.jobs.get(job.id)?.failure?.message).toMatch(/"Спички".*425-FZ/);
    expect(h.receipts()).toEqual([]);
  });
});

describe('an Agent with an atol-web device', () => {
  it('prints each bill once, opening the shift first, and reports the register in its snapshot', async () => {
    await openAgent();
    const jobs = [await submit('b1'), await submit('b2'), await submit('b3')];
    const done = await Promise.all(jobs.map(fiscalized));
    expect(h.documents[0]?.kind).toBe('openShift');
    expect(h.receipts().map((r) => r.marker)).toEqual(jobs.map((j) => j.id));
    for (const [index, job] of done.entries()) {
      const receipt = h.receipts()[index]!;
      expect(job.fiscal).toMatchObject({
        deviceKind: 'atol-web',
        fiscalDocumentNumber: receipt.documentNumber,
        fiscalSign: receipt.fiscalSign,
        totalMinor: receipt.totalKop,
        receiptNumber: String(receipt.receiptNumber),
      });
      expect(job.printing).toMatchObject({
        lastDocumentNumberBefore: receipt.documentNumber - 1,
        fnSerial: h.web.device.identity.fnSerial,
      });
    }
    const snapshot = await device.snapshot();
    expect(snapshot).toMatchObject({
      kind: 'atol-web',
      online: true,
      serial: h.web.device.identity.serial,
      shift: { state: 'open', number: 1 },
      fn: { serial: h.web.device.identity.fnSerial, lastDocumentNumber: 4 },
      ofd: { unsentCount: 4 },
      paper: { present: true },
    });
  });

  it('connection cut after the server accepted the receipt: fiscalized once', async () => {
    await openAgent();
    await until(() => device.ready, 'ready');
    h.web.setFault('dropAfterAccept', 1, RECEIPTS);
    const job = await fiscalized(await submit('drop'));
    expect(h.faults).toEqual(['dropAfterAccept']);
    expect(h.receipts().map((r) => [r.documentNumber, r.marker])).toEqual([
      [job.fiscal?.fiscalDocumentNumber, job.id],
    ]);
  });

  it('server restarted and lost its results: the reconcile finds the receipt in the FN', async () => {
    await openAgent();
    await until(() => device.ready, 'ready');
    h.web.setFault('dropAfterAccept', 1, RECEIPTS);
    h.web.setFault('loseResultsAfterRun', 1, RECEIPTS);
    const job = await fiscalized(await submit('lost'));
    expect(h.faults).toEqual(['dropAfterAccept', 'loseResultsAfterRun']);
    expect(h.receipts()).toHaveLength(1);
    expect(job.fiscal).toMatchObject({
      fiscalDocumentNumber: h.receipts()[0]?.documentNumber,
      fiscalSign: h.receipts()[0]?.fiscalSign,
      totalMinor: h.receipts()[0]?.totalKop,
    });
    expect(job.attempts).toBe(1);
  });

  it('a request interrupted before the register: proven not printed on the FN, then printed once', async () => {
    await openAgent();
    await until(() => device.ready, 'ready');
    h.web.setFault('interruptTask', 1, RECEIPTS);
    const job = await fiscalized(await submit('cut'));
    expect(h.faults).toEqual(['interruptTask']);
    expect(h.receipts().map((r) => r.marker)).toEqual([job.id]);
    expect(job.attempts).toBe(2);
    // The second attempt met the interrupted request (409) and moved on to the next uuid.
    expect(
      h.requests
        .filter((r) => r.uuid?.startsWith(job.id) && r.method === 'POST')
        .map((r) => [r.uuid, r.status]),
    ).toEqual([
      [job.id, 201],
      [job.id, 409],
      [`${job.id}-1`, 201],
    ]);
  });

  it('no paper: refused and retried; the retry reads the refusal (409) and prints under the next uuid, once', async () => {
    await openAgent();
    await fiscalized(await submit('first'));
    h.web.register.setFault('noPaper');
    const job = await submit('paper');
    await until(() => agent!.jobs.get(job.id)?.failure?.code === 'KKT_NO_PAPER', 'refused for paper');
    expect(stateOf(job.id)).toBe('RECEIVED');
    h.web.register.clearFaults();
    const done = await fiscalized(job);
    expect(
      h
        .receipts()
        .map((r) => r.marker)
        .slice(1),
    ).toEqual([job.id]);
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    const posts = h.requests.filter((r) => r.uuid?.startsWith(job.id) && r.method === 'POST');
    expect(posts[0]).toMatchObject({ uuid: job.id, status: 201 });
    expect(posts.some((p) => p.uuid === job.id && p.status === 409)).toBe(true);
    expect(posts.at(-1)?.status).toBe(201);
    expect(posts.at(-1)?.uuid).toMatch(new RegExp(`^${job.id}-\\d+$`));
  });

  it('a refusal reported after the FN closed the receipt: the FN check finds it, nothing is printed again', async () => {
    await openAgent();
    await until(() => device.ready, 'ready');
    h.web.setFault('errorAfterRun', 1, RECEIPTS);
    const job = await fiscalized(await submit('late-error'));
    expect(h.faults).toEqual(['errorAfterRun']);
    expect(job.attempts).toBe(1);
    expect(job.fiscal?.fiscalDocumentNumber).toBe(h.receipts()[0]?.documentNumber);
    expect(h.receipts()).toHaveLength(1);
  });

  it('an expired shift is closed and reopened before the receipt', async () => {
    await openAgent();
    await until(() => device.ready, 'ready');
    h.web.register.setFault('shiftExpired');
    await fiscalized(await submit('late'));
    expect(h.documents.map((d) => d.kind)).toEqual(['openShift', 'closeShift', 'openShift', 'receipt']);
  });

  it('a reconcile does not read the document numbers of another FN', async () => {
    await openAgent();
    await until(() => device.ready, 'ready');
    const anchoredElsewhere = {
      id: 'nosuchjob0001',
      operation: 'sell',
      printing: {
        lastDocumentNumberBefore: 0,
        fnSerial: '9999000000000001',
        startedAt: new Date().toISOString(),
      },
    } as unknown as Job;
    expect(await device.reconcile(anchoredElsewhere)).toMatchObject({
      kind: 'ambiguous',
      reason: expect.stringMatching(/fiscal storage changed/),
    });
  });

  it('waits while the web server is down and prints once it is back', async () => {
    const port = h.web.port;
    await h.web.close();
    await openAgent();
    expect(device.ready).toBe(false);
    const job = await submit('later');
    h = await startWeb({ port });
    await fiscalized(job);
    expect(h.receipts().map((r) => r.marker)).toEqual([job.id]);
  });
});
