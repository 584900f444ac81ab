import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../src/agent/agent.js';
import { parseFiscalNote } from '../../src/agent/connectors/oxsystem/note.js';
import { OX_CURSOR_KEY } from '../../src/agent/connectors/oxsystem/source.js';
import { MockOxServer } from './mockServer.js';
import {
  Clock,
  capturingLogger,
  jobOfSell,
  type OxHarness,
  openOxAgent,
  receiptFiles,
  until,
  untilState,
} from './support.js';

let dir: string;
let mock: MockOxServer;
let clock: Clock;
let agents: Agent[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-ox-'));
  clock = new Clock();
  mock = await MockOxServer.start({ now: clock.now });
});

afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop().catch(() => undefined);
  await mock.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(
  account: Parameters<typeof openOxAgent>[0]['account'] = {},
  beforeStart?: Parameters<typeof openOxAgent>[0]['beforeStart'],
) {
  const harness = await openOxAgent({ dir, mock, clock, account, ...(beforeStart ? { beforeStart } : {}) });
  agents.push(harness.agent);
  return harness;
}

async function stop(harness: OxHarness) {
  await harness.agent.stop();
  agents = agents.filter((a) => a !== harness.agent);
}

/** The doc's finished sell: a 220 000 so'm tracksuit with 100 000 off, paid 120 000 in cash (method 3). */
function addDocSell(kind: 'finished' | 'open' | 'postponed' = 'finished') {
  return mock.addSell({
    kind,
    lines: [
      { name: 'Спортивный костюм', count: 1, unitPrice: 220_000, discount: 100_000 },
      { name: 'Носки', count: 3, unitPrice: 10_000, discount: 1_000 },
    ],
    payments: kind === 'finished' ? [{ method: 3, price: 149_000 }] : [],
  });
}

describe('a sell becomes exactly one receipt', () => {
  it("prints a finished sell once and writes its fiscal note once, amounts in whole so'm", async () => {
    const h = await open();
    const sellId = addDocSell();
    const result = await h.connector.pollOnce();
    expect(result).toMatchObject({ submitted: 1, rejected: 0 });
    const job = await untilState(h.agent, sellId, 'REPORTED');

    // UZS has no minor unit: 149 000 so'm stays 149000 from OX to the receipt and back.
    expect(job.bill?.currency).toBe('UZS');
    expect(job.bill?.totalMinor).toBe(149_000);
    expect(job.fiscal?.totalMinor).toBe(149_000);
    expect(job.bill?.payments).toEqual([{ type: 'cash', amountMinor: 149_000 }]);
    const files = await receiptFiles(h.receiptsDir);
    expect(files).toEqual([`00000001-${job.id}.txt`]);
    const text = await readFile(join(h.receiptsDir, files[0]!), 'utf8');
    expect(text).toContain('NON-FISCAL RECEIPT');
    expect(text).toMatch(/TOTAL\s+149 000 UZS/);
    // 3 socks for 29 000 so'm do not divide: one at 9 666 and two at 9 667 add up exactly.
    expect(text).toMatch(/1 x 9 666\s+9 666/);
    expect(text).toMatch(/2 x 9 667\s+19 334/);

    const sell = mock.sell(sellId);
    expect(sell.patches).toBe(1);
    expect(mock.callsTo('payment')).toHaveLength(0);
    expect(mock.callsTo('commit')).toHaveLength(0);
    expect(parseFiscalNote(sell.note)).toMatchObject({
      device: 'np1',
      kind: 'nonfiscal',
      receipt: '1',
      job: job.id,
    });

    // The note changed the sell's updatedTime: the next poll sees it again and leaves it alone.
    clock.advance(5000);
    const again = await h.connector.pollOnce();
    expect(again.submitted).toBe(0);
    expect(again.known + again.skipped).toBeGreaterThanOrEqual(1);
    expect(await receiptFiles(h.receiptsDir)).toHaveLength(1);
    expect(mock.sell(sellId).patches).toBe(1);
  });

  it('pays, commits and notes an open sell once, even when every answer is lost', async () => {
    const h = await open({ policy: ['open'], payments: { default: 'card' } });
    const sellId = addDocSell('open');
    mock.fault({ kind: 'dropAfterApply', endpoint: 'payment' });
    mock.fault({ kind: 'dropAfterApply', endpoint: 'commit' });
    mock.fault({ kind: 'dropAfterApply', endpoint: 'patch' });
    await h.connector.pollOnce();
    const job = await untilState(h.agent, sellId, 'REPORTED');

    const sell = mock.sell(sellId);
    expect(sell.payments).toHaveLength(1);
    expect(sell.payments[0]).toMatchObject({ method: 114, price: 149_000, type: 'sell' });
    expect(sell.draft).toBe(false);
    expect(sell.commits).toBe(1);
    expect(sell.patches).toBe(1);
    expect(parseFiscalNote(sell.note)?.job).toBe(job.id);
    // Each write went out once; the retries read the sell and saw it done.
    expect(mock.callsTo('payment', 'POST')).toHaveLength(1);
    expect(mock.callsTo('commit', 'POST')).toHaveLength(1);
    expect(mock.callsTo('patch', 'PATCH')).toHaveLength(1);
    expect(mock.callsTo('payment')[0]?.body).toEqual({ paymentMethod: 114, price: 149_000, type: 'sell' });
    expect(await receiptFiles(h.receiptsDir)).toHaveLength(1);
  });

  it('pays the rest of a postponed sell that was partly paid in cash', async () => {
    const h = await open({ policy: ['postponed'], payments: { default: 'card' } });
    const sellId = mock.addSell({
      kind: 'postponed',
      lines: [{ name: 'Чайник', count: 1, unitPrice: 120_000 }],
      payments: [{ method: 3, price: 20_000 }],
    });
    await h.connector.pollOnce();
    const job = await untilState(h.agent, sellId, 'REPORTED');
    expect(job.bill?.payments).toEqual([
      { type: 'cash', amountMinor: 20_000 },
      { type: 'card', amountMinor: 100_000 },
    ]);
    expect(mock.callsTo('payment')[0]?.body).toEqual({ paymentMethod: 114, price: 100_000, type: 'sell' });
    expect(mock.sell(sellId)).toMatchObject({ draft: false, commits: 1, patches: 1 });
  });

  it('leaves an open cart alone until it has been idle for openSettleSeconds', async () => {
    const h = await open({ policy: ['open'], openSettleSeconds: 60 });
    const sellId = addDocSell('open');
    const first = await h.connector.pollOnce();
    expect(first).toMatchObject({ deferred: 1, submitted: 0 });
    clock.advance(61_000);
    const second = await h.connector.pollOnce();
    expect(second.submitted).toBe(1);
    await untilState(h.agent, sellId, 'REPORTED');
  });

  it('does not fiscalize sells outside the policy, or sells that already carry a fiscal note', async () => {
    const h = await open({ policy: ['finished'] });
    mock.addSell({ kind: 'open', lines: [{ name: 'A', count: 1, unitPrice: 1000 }] });
    mock.addSell({
      kind: 'finished',
      lines: [{ name: 'B', count: 1, unitPrice: 1000 }],
      payments: [{ method: 3, price: 1000 }],
      note: '[kkt] device=other kind=atol receipt=4 job=zzzz0000abcd',
    });
    const result = await h.connector.pollOnce();
    expect(result).toMatchObject({ listed: 2, skipped: 2, submitted: 0 });
    expect(await receiptFiles(h.receiptsDir)).toHaveLength(0);
  });
});

describe('restarts', () => {
  it('keeps the cursor across a restart and never fiscalizes a sell twice', async () => {
    const first = await open();
    const a = addDocSell();
    await first.connector.pollOnce();
    await untilState(first.agent, a, 'REPORTED');
    const cursor = first.connector.cursor;
    expect(cursor).toBeDefined();
    await stop(first);

    clock.advance(10_000);
    const second = await open();
    expect(second.connector.cursor).toBe(cursor);
    const again = await second.connector.pollOnce();
    expect(mock.callsTo('sellList').at(-1)?.query['updatedTime[min]']).toBe(cursor);
    expect(again.submitted).toBe(0);
    const b = addDocSell();
    await second.connector.pollOnce();
    const jobB = await untilState(second.agent, b, 'REPORTED');
    // The device's counter survived too.
    expect(jobB.fiscal?.receiptNumber).toBe('2');
    expect(await receiptFiles(second.receiptsDir)).toHaveLength(2);
    expect(mock.sell(a).patches).toBe(1);
  });

  it('does not reprint even when the cursor is moved back: the journal knows the sell', async () => {
    const first = await open();
    const a = addDocSell();
    await first.connector.pollOnce();
    await untilState(first.agent, a, 'REPORTED');
    await stop(first);

    const second = await open({}, async (agent, connector) => {
      await agent.storeFor(connector.name).set(OX_CURSOR_KEY, '2000-01-01 00:00:00');
    });
    const result = await second.connector.pollOnce();
    expect(result.submitted).toBe(0);
    expect(await receiptFiles(second.receiptsDir)).toHaveLength(1);
  });
});

describe('tokens', () => {
  it('logs in again before the token expires, without ever sending an expired one', async () => {
    await mock.close();
    mock = await MockOxServer.start({ now: clock.now, lifetimeSeconds: 600 });
    const h = await open({ token: { refreshMarginSeconds: 120 } });
    await h.connector.pollOnce();
    expect(mock.logins).toBe(1);
    clock.advance(470_000); // 130 s before expiry: still inside the token's life, outside the margin
    await h.connector.pollOnce();
    expect(mock.logins).toBe(1);
    clock.advance(20_000); // 110 s before expiry: inside the margin
    await h.connector.pollOnce();
    expect(mock.logins).toBe(2);
    expect(mock.calls.filter((c) => c.auth === 'expired' || c.auth === 'invalid')).toHaveLength(0);
  });

  it('trusts the JWT exp when it comes before lifetime', async () => {
    await mock.close();
    mock = await MockOxServer.start({ now: clock.now, lifetimeSeconds: 1_036_800, jwtValiditySeconds: 300 });
    const h = await open({ token: { refreshMarginSeconds: 60 } });
    await h.connector.pollOnce();
    clock.advance(250_000);
    await h.connector.pollOnce();
    expect(mock.logins).toBe(2);
    expect(mock.calls.filter((c) => c.auth === 'expired')).toHaveLength(0);
  });

  it('logs in once more when the server says the token expired, and carries on', async () => {
    const h = await open();
    await h.connector.pollOnce();
    mock.expireTokens();
    const sellId = addDocSell();
    const result = await h.connector.pollOnce();
    expect(result.submitted).toBe(1);
    expect(mock.logins).toBe(2);
    expect(mock.calls.filter((c) => c.auth === 'expired')).toHaveLength(1);
    await untilState(h.agent, sellId, 'REPORTED');
  });
});

describe('bad answers: a clear error, and no receipt', () => {
  async function expectNothingPrinted(h: OxHarness) {
    expect(h.agent.jobs.countByState()).toMatchObject({
      RECEIVED: 0,
      PRINTING: 0,
      FISCALIZED: 0,
      REPORTED: 0,
    });
    expect(await receiptFiles(h.receiptsDir)).toHaveLength(0);
  }

  it('an HTML error page instead of the sell list', async () => {
    const h = await open({ retries: 0 });
    addDocSell();
    mock.fault({ kind: 'html', endpoint: 'sellList', status: 200 });
    await expect(h.connector.pollOnce()).rejects.toMatchObject({
      code: 'OX_MALFORMED_RESPONSE',
      message: expect.stringMatching(/GET \/sells\?.*HTML page \("502 Bad Gateway"\) came instead of JSON/),
    });
    expect(h.connector.status().lastError?.code).toBe('OX_MALFORMED_RESPONSE');
    await expectNothingPrinted(h);
  });

  it('an HTML error page with a 502 status is named too, and retried', async () => {
    const h = await open({ retries: 1 });
    const sellId = addDocSell();
    mock.fault({ kind: 'html', endpoint: 'sellList', status: 502 });
    const result = await h.connector.pollOnce();
    expect(result.submitted).toBe(1);
    await untilState(h.agent, sellId, 'REPORTED');
    mock.fault({ kind: 'html', endpoint: 'sellList', status: 502, times: 2 });
    await expect(h.connector.pollOnce()).rejects.toMatchObject({
      code: 'OX_HTTP_STATUS',
      message: expect.stringContaining('answered HTTP 502 (HTML page "502 Bad Gateway")'),
    });
  });

  it('a 10 MB body, streamed or declared', async () => {
    const h = await open({ retries: 0 });
    addDocSell();
    mock.fault({ kind: 'hugeBody', endpoint: 'sellList' });
    await expect(h.connector.pollOnce()).rejects.toMatchObject({
      code: 'OX_RESPONSE_TOO_LARGE',
      message: expect.stringContaining('exceeds 4194304 bytes'),
    });
    mock.fault({ kind: 'hugeBody', endpoint: 'sell', declareLength: true });
    const result = await h.connector.pollOnce();
    expect(result).toMatchObject({ submitted: 0, deferred: 1 });
    expect(h.connector.status().lastError?.code).toBe('OX_RESPONSE_TOO_LARGE');
    await expectNothingPrinted(h);
  });

  it('an expired token that a fresh login does not cure', async () => {
    const h = await open({ retries: 0 });
    addDocSell();
    mock.fault({ kind: 'unauthorized', endpoint: 'cashdesk', times: 5 });
    await expect(h.connector.pollOnce()).rejects.toMatchObject({
      code: 'OX_AUTH_REJECTED',
      message: expect.stringContaining(
        'GET /cashdesks/233 answered HTTP 401 (Expired JWT Token) even with a fresh token',
      ),
    });
    expect(mock.logins).toBe(2);
    await expectNothingPrinted(h);
  });

  it('wrong credentials', async () => {
    const h = await open({ password: 'wrong', retries: 0 });
    addDocSell();
    await expect(h.connector.pollOnce()).rejects.toMatchObject({
      code: 'OX_LOGIN_REJECTED',
      message: expect.stringContaining('Check username, password and subdomain'),
    });
    await expectNothingPrinted(h);
  });

  it('a cashdesk without paymentMethods', async () => {
    const h = await open({ retries: 0 });
    addDocSell();
    mock.fault({ kind: 'omitField', endpoint: 'cashdesk', path: 'paymentMethods' });
    await expect(h.connector.pollOnce()).rejects.toMatchObject({
      code: 'OX_MALFORMED_RESPONSE',
      details: expect.objectContaining({ field: 'paymentMethods' }),
    });
    await expectNothingPrinted(h);
  });

  it('a list row without updatedTime holds the cursor and is taken at the next poll', async () => {
    const h = await open({ retries: 0 });
    const sellId = addDocSell();
    mock.fault({ kind: 'omitField', endpoint: 'sellList', path: 'items.0.updatedTime' });
    const before = h.connector.cursor;
    const result = await h.connector.pollOnce();
    expect(result).toMatchObject({ malformed: 1, submitted: 0 });
    expect(h.connector.cursor).toBe(before);
    expect(h.connector.status().lastError).toMatchObject({
      code: 'OX_MALFORMED_RESPONSE',
      message: expect.stringContaining(`(sell ${sellId}) is unusable: items[0].updatedTime`),
    });
    await expectNothingPrinted(h);
    const next = await h.connector.pollOnce();
    expect(next.submitted).toBe(1);
    await untilState(h.agent, sellId, 'REPORTED');
  });

  it('a sell line without its total: the sell is FAILED naming the field, nothing prints', async () => {
    const h = await open({ retries: 0 });
    const sellId = addDocSell();
    mock.fault({ kind: 'omitField', endpoint: 'sell', path: 'sellRecords.1.total' });
    const result = await h.connector.pollOnce();
    expect(result.rejected).toBe(1);
    const job = jobOfSell(h.agent, sellId);
    expect(job?.state).toBe('FAILED');
    expect(job?.failure).toMatchObject({ field: 'sellRecords[1].total', retryable: false });
    expect(await receiptFiles(h.receiptsDir)).toHaveLength(0);
  });

  it('sell lines that do not add up to the sell total', async () => {
    const h = await open();
    const sellId = mock.addSell({
      kind: 'finished',
      lines: [{ name: 'A', count: 2, unitPrice: 5000 }],
      payments: [{ method: 3, price: 9000 }],
      totalOverride: 9000,
    });
    await h.connector.pollOnce();
    expect(jobOfSell(h.agent, sellId)?.failure).toMatchObject({
      code: 'BILL_TOTAL_MISMATCH',
      field: 'total.order.UZS',
    });
    expect(await receiptFiles(h.receiptsDir)).toHaveLength(0);
  });

  it('a server that hangs', async () => {
    const h = await open({ retries: 0, timeoutMs: 300 });
    mock.fault({ kind: 'hang', endpoint: 'sellList' });
    await expect(h.connector.pollOnce()).rejects.toMatchObject({
      code: 'OX_TIMEOUT',
      message: expect.stringContaining('gave no complete answer within 300 ms'),
    });
    await expectNothingPrinted(h);
  });

  it('a 500 is retried; a lasting one is reported with its status', async () => {
    const h = await open({ retries: 1 });
    const sellId = addDocSell();
    mock.fault({ kind: 'http500', endpoint: 'sellList' });
    expect((await h.connector.pollOnce()).submitted).toBe(1);
    await untilState(h.agent, sellId, 'REPORTED');
    mock.fault({ kind: 'http500', endpoint: 'cashdesk', times: 2 });
    clock.advance(6 * 60_000); // past the cashdesk cache
    await expect(h.connector.pollOnce()).rejects.toMatchObject({
      code: 'OX_HTTP_STATUS',
      details: expect.objectContaining({ status: 500 }),
    });
  });
});

describe('one bad sell (issue 18.2)', () => {
  it('a sell whose card answers 500 waits on its own backoff as an alert; the newer sell prints; the cursor holds', async () => {
    const h = await open({ retries: 0, billRetry: { firstDelayMs: 60_000, maxDelayMs: 60_000 } });
    const bad = addDocSell();
    clock.advance(5_000);
    const good = addDocSell();
    clock.advance(5_000);
    mock.fault({ kind: 'http500', endpoint: 'sell', times: 1 });
    expect(await h.connector.pollOnce()).toMatchObject({ submitted: 1, deferred: 1 });
    await untilState(h.agent, good, 'REPORTED');
    expect(jobOfSell(h.agent, bad)).toBeUndefined();
    expect(h.connector.status().failingBills).toMatchObject([
      { billId: String(bad), code: 'OX_HTTP_STATUS', failures: 1 },
    ]);
    expect(h.agent.alerts().map((alert) => alert.code)).toContain('BILLS_FAILING');

    // Within its backoff the card is not asked for, and the cursor does not pass the sell.
    const cards = mock.callsTo('sell').length;
    clock.advance(10_000);
    const waiting = await h.connector.pollOnce();
    expect(waiting).toMatchObject({ submitted: 0, deferred: 1 });
    expect(mock.callsTo('sell')).toHaveLength(cards);
    expect(waiting.cursor <= mock.sell(bad).updatedTime).toBe(true);

    clock.advance(60_000);
    expect(await h.connector.pollOnce()).toMatchObject({ submitted: 1, deferred: 0 });
    await untilState(h.agent, bad, 'REPORTED');
    expect(h.connector.status().failingBills).toBeUndefined();
  });
});

describe('report retries', () => {
  it('keeps a report through OX outages and delivers it once OX is back', async () => {
    const h = await open();
    const sellId = addDocSell();
    mock.fault({ kind: 'http500', endpoint: 'patch', times: 3 });
    await h.connector.pollOnce();
    await untilState(h.agent, sellId, 'REPORTED');
    expect(mock.callsTo('patch')).toHaveLength(4);
    expect(mock.sell(sellId).patches).toBe(1);
  });

  it('dead-letters the report of an open sell whose total changed after printing', async () => {
    const h = await open({ policy: ['open'] });
    const sellId = addDocSell('open');
    await h.connector.pollOnce();
    // The cashier adds a line while the receipt is being printed (before the report can go out).
    mock.addLine(sellId, { name: 'Пакет', count: 1, unitPrice: 500 });
    const dead = await until(() => h.agent.outbox.entries({ state: 'dead' })[0], 'a dead report');
    expect(dead.lastError).toMatchObject({
      code: 'OX_SELL_STATE',
      message: expect.stringContaining(
        'its total changed from 149000 to 149500 UZS after the receipt was printed',
      ),
    });
    expect(mock.sell(sellId)).toMatchObject({ draft: true, commits: 0, patches: 0 });
    expect(mock.sell(sellId).payments).toHaveLength(0);
    expect(jobOfSell(h.agent, sellId)?.state).toBe('FISCALIZED');
  });
});

describe('more of the connector', () => {
  it('reads every page, oldest sell first; a backlog beyond maxPages is read in narrower windows', async () => {
    const h = await open({ poll: { enabled: false, maxPages: 2 } });
    const ids = [1, 2, 3, 4, 5].map((n) => {
      clock.advance(10_000);
      return mock.addSell({
        kind: 'finished',
        lines: [{ name: `S${n}`, count: 1, unitPrice: n * 1000 }],
        payments: [{ method: 3, price: n * 1000 }],
      });
    });
    clock.advance(5 * 60_000);
    const before = h.connector.cursor;
    const cut = await h.connector.pollOnce();
    // Two pages of two, newest first: sells 5..2 are read and taken, 1 is not; the cursor must wait.
    expect(cut).toMatchObject({ listed: 4, submitted: 4 });
    expect(h.connector.cursor).toBe(before);
    let submitted = 0;
    for (let poll = 0; poll < 6 && submitted === 0; poll++)
      submitted = (await h.connector.pollOnce()).submitted;
    expect(submitted).toBe(1);
    expect(mock.callsTo('sellList').some((c) => c.query['updatedTime[max]'] !== undefined)).toBe(true);
    const jobs = await Promise.all(ids.map((id) => untilState(h.agent, id, 'REPORTED')));
    // Within the first poll the oldest sell read went to the register first.
    expect(jobs.slice(1).map((j) => j.fiscal?.receiptNumber)).toEqual(['1', '2', '3', '4']);
    expect(jobs[0]?.fiscal?.receiptNumber).toBe('5');
    // Once the backlog is read, the cursor moves on and the window opens again.
    for (let poll = 0; poll < 6 && h.connector.cursor === before; poll++) await h.connector.pollOnce();
    expect(h.connector.cursor! > before!).toBe(true);
    expect(await h.connector.pollOnce()).toMatchObject({ submitted: 0 });
    expect(mock.callsTo('sellList').at(-1)?.query['updatedTime[max]']).toBeUndefined();
  });

  it('fiscalizes a sell on command, whatever the policy, with the payment the technician chose', async () => {
    const h = await open({ policy: ['finished'], payments: { default: 'card' } });
    const sellId = addDocSell('postponed');
    const { job, duplicate } = await h.connector.fiscalizeOnCommand({
      billId: String(sellId),
      payment: 'cash',
      trigger: { kind: 'cli' },
    });
    expect(duplicate).toBe(false);
    await untilState(h.agent, sellId, 'REPORTED');
    expect(mock.callsTo('payment')[0]?.body).toEqual({ paymentMethod: 3, price: 149_000, type: 'sell' });
    const again = await h.connector.fiscalizeOnCommand({ number: String(sellId), trigger: { kind: 'cli' } });
    expect(again).toMatchObject({ duplicate: true, job: { id: job.id } });
    const empty = mock.addSell({ kind: 'open', lines: [] });
    await expect(
      h.connector.fiscalizeOnCommand({ billId: String(empty), trigger: { kind: 'cli' } }),
    ).rejects.toMatchObject({
      code: 'OX_SELL_STATE',
    });
  });

  it('looks variations up for their VAT when configured, and maps payment methods by flag and override', async () => {
    await mock.close();
    mock = await MockOxServer.start({
      now: clock.now,
      variations: [{ id: 555, taxable: true, vatPercent: 12, unit: 'pcs' }],
      paymentMethods: [
        { id: 3, name: 'Наличные', cash: true },
        { id: 114, name: 'Uzcard', cash: false },
        { id: 9, name: 'Click', cash: false },
      ],
    });
    const h = await open({ vat: { lookupVariations: true }, payments: { overrides: { '9': 'other' } } });
    const sellId = mock.addSell({
      kind: 'finished',
      lines: [{ name: 'Чай', count: 2, unitPrice: 28_000, variation: 555 }],
      payments: [
        { method: 3, price: 6000 },
        { method: 114, price: 40_000 },
        { method: 9, price: 10_000 },
      ],
    });
    await h.connector.pollOnce();
    const job = await untilState(h.agent, sellId, 'REPORTED');
    expect(job.bill?.payments).toEqual([
      { type: 'cash', amountMinor: 6000 },
      { type: 'card', amountMinor: 40_000 },
      { type: 'other', amountMinor: 10_000 },
    ]);
    expect(job.bill?.sourceData?.['positions']).toEqual([
      { sellRecord: expect.any(String), variation: '555', taxable: true, vatPercent: '12', vatMinor: 6000 },
    ]);
    expect(mock.callsTo('variation')).toHaveLength(1);
  });

  it('logs in with a form and never logs the password, the token or the receipt lines', async () => {
    const { logger, lines } = capturingLogger();
    const harness = await openOxAgent({ dir, mock, clock, logger });
    agents.push(harness.agent);
    const sellId = addDocSell();
    await harness.connector.pollOnce();
    await untilState(harness.agent, sellId, 'REPORTED');
    const login = mock.callsTo('login')[0];
    expect(login?.contentType).toBe('application/x-www-form-urlencoded');
    const log = lines.join('');
    expect(log).toContain('"event":"ox.login"');
    expect(log).toContain('"event":"nonfiscal.printed"');
    expect(log).not.toContain(mock.password);
    expect(log).not.toMatch(/eyJ0eXAiOiJKV1Qi/);
    expect(log).not.toContain('Спортивный костюм');
  });
});
