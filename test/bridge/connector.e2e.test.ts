import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BridgeAccountInput } from '../../src/agent/connectors/bridge/config.js';
import { BridgeConnector } from '../../src/agent/connectors/bridge/connector.js';
import type { ReceiptCreatedEvent, ReceiptCreatedPayload } from '../../src/agent/connectors/bridge/event.js';
import type { Job } from '../../src/agent/jobs/job.js';
import { DeliveryError } from '../../src/agent/outbox/deliveryError.js';
import type { OutboxEntry } from '../../src/agent/outbox/sink.js';
import { faultyBill, type MockBridge, startMockBridge } from '../../src/emulators/bridge/index.js';
import { FakeIntake, MemoryStore } from './support.js';

const IDS_120 = {
  userId: '01-000000000233309',
  storeId: '20170606-69FB-40FF-805C-7724F9A7F221',
  deviceId: '20170525-C638-40EF-80D6-0B53FE6D9F9F',
  employeeId: '20190512-47A9-407B-8081-E9AE45B3F345',
};

let bridge: MockBridge | undefined;
const connectors: BridgeConnector[] = [];

afterEach(async () => {
  for (const connector of connectors.splice(0)) await connector.stop();
  await bridge?.close();
  bridge = undefined;
});

async function setup(
  config: Partial<BridgeAccountInput> = {},
  options: { store?: MemoryStore; intake?: FakeIntake; now?: () => Date } = {},
) {
  bridge ??= await startMockBridge({ timeZone: 'Europe/Moscow', system: 'mezoestetic-ru' });
  const intake = options.intake ?? new FakeIntake();
  const store = options.store ?? new MemoryStore();
  const connector = new BridgeConnector(
    { id: '120', baseUrl: bridge.url, timeoutMs: 1_000, retries: 0, ...config },
    { retryDelayMs: 5, ...(options.now ? { now: options.now } : {}) },
  );
  connectors.push(connector);
  await connector.start({ intake, store, logger: pino({ level: 'silent' }), devices: async () => [] });
  // start() says HELLO in the background; let it finish so that request logs read in order.
  await vi.waitFor(() => {
    const status = connector.status();
    expect(status.lastSuccessAt ?? status.lastError).toBeDefined();
  });
  return { connector, intake, store, bridge };
}

function fiscalized(job: Job, dateTimeUtc = '2025-12-15T12:36:28.000Z'): Job {
  return {
    ...job,
    state: 'FISCALIZED',
    fiscal: {
      deviceId: 'kkt-1',
      deviceKind: 'atol',
      dateTime: '2025-12-15T15:36:28+03:00',
      dateTimeUtc,
      shiftNumber: 1359,
      fiscalDocumentNumber: 77,
      totalMinor: job.bill!.totalMinor,
    },
  };
}

/** What the outbox would store: the draft, JSON round-tripped, as an entry. */
function entryOf(connector: BridgeConnector, job: Job): OutboxEntry {
  const drafts = connector.sink.draft({ type: 'job.fiscalized', job });
  expect(drafts).toHaveLength(1);
  const entry: OutboxEntry = {
    ...drafts[0]!,
    id: 'E1',
    seq: 1,
    sink: connector.sink.name,
    state: 'pending',
    createdAt: new Date().toISOString(),
  };
  return JSON.parse(JSON.stringify(entry)) as OutboxEntry;
}

async function deliveryError(promise: Promise<void>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DeliveryError) return error;
    throw error;
  }
  throw new Error('expected a DeliveryError');
}

describe('BridgeConnector: auto-fiscalization', () => {
  it('a poll submits every unknown bill once, oldest first; the next poll submits nothing new', async () => {
    const { connector, intake, bridge } = await setup();
    expect(await connector.pollOnce()).toEqual({
      listed: 6,
      known: 0,
      skipped: 0,
      submitted: 6,
      rejected: 0,
      failed: 0,
      waiting: 0,
    });
    expect(intake.submissions.map((s) => s.bill.billId)).toEqual([
      '346042',
      '346044',
      '7001',
      '7002',
      '7003',
      '7004',
    ]);
    expect(
      intake.submissions.every((s) => s.trigger.kind === 'poll' && s.bill.payments[0]!.type === 'card'),
    ).toBe(true);

    const billRequests = bridge.requests.filter((r) => r.endpoint === 'bill').length;
    expect(await connector.pollOnce()).toEqual({
      listed: 6,
      known: 6,
      skipped: 0,
      submitted: 0,
      rejected: 0,
      failed: 0,
      waiting: 0,
    });
    expect(intake.submissions).toHaveLength(6);
    expect(bridge.requests.filter((r) => r.endpoint === 'bill')).toHaveLength(billRequests);
    // HELLO opens each cycle.
    expect(bridge.requests.filter((r) => r.endpoint !== 'bill').map((r) => r.endpoint)).toEqual([
      'hello', // start
      'hello',
      'list',
      'hello',
      'list',
    ]);
  });

  it('leaves bills dated before `notBefore` alone (another POS may have printed them)', async () => {
    const { connector, intake } = await setup({
      autoFiscalize: { enabled: false, intervalMs: 1_000, filter: 'none', notBefore: '2025-12-14 17:00:00' },
    });
    expect(await connector.pollOnce()).toMatchObject({ listed: 6, skipped: 1, submitted: 5 });
    expect(intake.submissions.map((s) => s.bill.billId)).not.toContain('346042');
    // A cashier's command still reaches it.
    expect((await connector.fiscalizeById('346042')).duplicate).toBe(false);
  });

  it('runs by itself when enabled, with the `today` filter, and picks up a bill added later', async () => {
    const { intake, bridge } = await setup({
      autoFiscalize: { enabled: true, intervalMs: 100, filter: 'today' },
    });
    await vi.waitFor(() => expect(intake.submissions).toHaveLength(4), { timeout: 3_000, interval: 20 });
    expect(intake.submissions.map((s) => s.bill.billId)).toEqual(['7001', '7002', '7003', '7004']);
    expect(bridge.requests.find((r) => r.endpoint === 'list')?.url).toBe('/api/v2/list?date=today');

    const today = String(bridge.bills().find((b) => b['id'] === 7001)!['date']).slice(0, 10);
    bridge.addBill({
      ...bridge.bills().find((b) => b['id'] === 7001)!,
      id: 7010,
      number: '7010-CRM',
      date: `${today} 18:00:00`,
    });
    await vi.waitFor(() => expect(intake.submissions).toHaveLength(5), { timeout: 3_000, interval: 20 });
    expect(intake.submissions[4]!.bill.billId).toBe('7010');
  });

  it('stop() abandons a poll stuck on a hanging bridge', { timeout: 3_000 }, async () => {
    const { connector, intake, bridge } = await setup({ timeoutMs: 60_000 });
    bridge.setFault({ kind: 'hang', endpoint: 'list' });
    const poll = connector.pollOnce();
    await vi.waitFor(() => expect(bridge.requests.some((r) => r.outcome === 'hang')).toBe(true));
    await connector.stop();
    await expect(poll).rejects.toMatchObject({ code: 'BRIDGE_STOPPED' });
    expect(intake.submissions).toHaveLength(0);
  });

  it('a malformed bill becomes one FAILED job naming the field, and is not fetched again', async () => {
    const { connector, intake, bridge } = await setup();
    bridge.addBill(faultyBill('nonNumericPrice', { id: 9001, date: '2025-12-01 10:00:00' }));
    bridge.addBill(faultyBill('unknownTaxRate', { id: 9002, date: '2025-12-01 10:01:00' }));
    bridge.addBill(faultyBill('totalMismatch', { id: 9003, date: '2025-12-01 10:02:00' }));
    bridge.addBill(faultyBill('missingFields', { id: 9004, date: '2025-12-01 10:03:00' }));

    expect(await connector.pollOnce()).toMatchObject({ listed: 10, submitted: 6, rejected: 4 });
    expect(
      intake.rejections.map((r) => [r.key.billId, r.number, r.error.code, r.error.details['field']]),
    ).toEqual([
      ['9001', '9001-BAD', 'VALIDATION_FAILED', 'products[0].price'],
      ['9002', '9002-BAD', 'VALIDATION_FAILED', 'products[0].taxrate'],
      ['9003', '9003-BAD', 'BILL_TOTAL_MISMATCH', 'summ'],
      ['9004', '9004-BAD', 'VALIDATION_FAILED', 'products[0].price'],
    ]);
    expect(intake.find({ source: 'bridge', account: '120', billId: '9003' })).toMatchObject({
      state: 'FAILED',
      failure: { code: 'BILL_TOTAL_MISMATCH', field: 'summ' },
    });
    expect(await connector.pollOnce()).toMatchObject({ known: 10, submitted: 0, rejected: 0 });
  });

  it('a bill the bridge fails to send is not submitted; it waits on its backoff, then a poll gets it', async () => {
    let nowMs = Date.parse('2025-12-15T12:00:00.000Z');
    const { connector, intake, bridge } = await setup(
      { billRetry: { firstDelayMs: 60_000, maxDelayMs: 60_000 } },
      { now: () => new Date(nowMs) },
    );
    bridge.setFault({ kind: 'garbage', endpoint: 'bill', times: 1 });
    expect(await connector.pollOnce()).toMatchObject({ submitted: 5, failed: 1 });
    expect(intake.rejections).toHaveLength(0);
    const [failing] = connector.status().failingBills ?? [];
    expect(failing).toMatchObject({ code: 'BRIDGE_MALFORMED_RESPONSE', failures: 1 });
    // Within its backoff the bill is not asked for.
    expect(await connector.pollOnce()).toMatchObject({ submitted: 0, known: 5, waiting: 1, failed: 0 });
    nowMs = Date.parse(failing!.nextTryAt);
    expect(await connector.pollOnce()).toMatchObject({ submitted: 1, known: 5, waiting: 0, failed: 0 });
    expect(connector.status().failingBills).toBeUndefined();
  });
});

describe('BridgeConnector: commands', () => {
  it('fiscalizeByNumber: HELLO, LIST?number, BILL, submit; again → the same job, nothing fetched', async () => {
    const { connector, intake, bridge } = await setup();
    const first = await connector.fiscalizeByNumber('1307620');
    expect(first.duplicate).toBe(false);
    expect(first.job.bill).toMatchObject({ billId: '346042', number: '1307620', totalMinor: 1593100 });
    expect(intake.submissions[0]!.trigger).toEqual({ kind: 'command' });
    expect(bridge.requests.slice(1).map((r) => r.url)).toEqual([
      '/api/v2/hello',
      '/api/v2/list?number=1307620',
      '/api/v2/bill/byid/346042',
    ]);

    const again = await connector.fiscalizeByNumber('1307620');
    expect(again).toEqual({ job: first.job, duplicate: true });
    expect(bridge.requests.filter((r) => r.endpoint === 'bill')).toHaveLength(1);
    expect(intake.submissions).toHaveLength(1);
  });

  it('payment: the command decides, else the account default', async () => {
    const { connector } = await setup({ defaultPayment: 'cash' });
    const byDefault = await connector.fiscalizeById('346044');
    expect(byDefault.job.bill!.payments).toEqual([{ type: 'cash', amountMinor: 344271 }]);
    const overridden = await connector.fiscalizeByNumber('7001-CRM', {
      payment: 'card',
      trigger: { kind: 'mqtt', ref: 'm1' },
    });
    expect(overridden.job.bill!.payments).toEqual([{ type: 'card', amountMinor: 104975 }]);
    expect(overridden.job.trigger).toEqual({ kind: 'mqtt', ref: 'm1' });
  });

  it('fiscalizeOnCommand (the agent contract) takes a number or a bill id', async () => {
    const { connector } = await setup();
    const byNumber = await connector.fiscalizeOnCommand({
      number: '1307622',
      trigger: { kind: 'cli', ref: 'c1' },
    });
    expect(byNumber.job).toMatchObject({
      summary: { billId: '346044' },
      trigger: { kind: 'cli', ref: 'c1' },
    });
    const byId = await connector.fiscalizeOnCommand({
      billId: '7001',
      payment: 'cash',
      trigger: { kind: 'cli' },
    });
    expect(byId.job.bill!.payments[0]!.type).toBe('cash');
    await expect(connector.fiscalizeOnCommand({ trigger: { kind: 'cli' } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('an unknown number is BRIDGE_BILL_NOT_FOUND', async () => {
    const { connector } = await setup();
    await expect(connector.fiscalizeByNumber('0000')).rejects.toMatchObject({
      code: 'BRIDGE_BILL_NOT_FOUND',
    });
  });

  it('a malformed bill on command is answered with its FAILED job', async () => {
    const { connector, bridge } = await setup();
    bridge.addBill(faultyBill('unknownTaxRate', { id: 9002, number: 'B-2', date: '2025-12-01 10:01:00' }));
    const result = await connector.fiscalizeByNumber('B-2');
    expect(result).toMatchObject({
      duplicate: false,
      job: { state: 'FAILED', failure: { field: 'products[0].taxrate' }, trigger: { kind: 'command' } },
    });
  });

  it('refuses commands before start', async () => {
    bridge = await startMockBridge();
    const connector = new BridgeConnector({ id: '120', baseUrl: bridge.url });
    await expect(connector.fiscalizeById('346042')).rejects.toMatchObject({ code: 'BRIDGE_NOT_STARTED' });
    expect(bridge.requests).toHaveLength(0);
  });

  it('the configured register is named on submit', async () => {
    const { connector, intake } = await setup({ device: 'atol-2' });
    await connector.fiscalizeById('7001');
    expect(intake.submissions[0]!.deviceId).toBe('atol-2');
  });
});

describe('BridgeConnector: ids and status', () => {
  it('generated ids are stable across restarts with the same store', async () => {
    const store = new MemoryStore();
    const { connector } = await setup({}, { store });
    const first = connector.identity!;
    await connector.stop();
    const { connector: restarted } = await setup({}, { store });
    expect(restarted.identity).toEqual(first);
    const { connector: elsewhere } = await setup({}, { store: new MemoryStore() });
    expect(elsewhere.identity!.storeId).not.toBe(first.storeId);
    expect(store.writes).toBe(1);
  });

  it('status: online with the system after HELLO; offline with the error when the bridge is down', async () => {
    const { connector, bridge } = await setup();
    expect(connector.status()).toMatchObject({
      name: 'bridge:120',
      online: true,
      details: { system: 'mezoestetic-ru', systems: ['mezoestetic-ru'], protocol: '0.1.0' },
    });
    expect(connector.status().lastSuccessAt).toBeDefined();
    await bridge.down();
    await expect(connector.pollOnce()).rejects.toMatchObject({ code: 'BRIDGE_UNREACHABLE' });
    expect(connector.status()).toMatchObject({ online: false, lastError: { code: 'BRIDGE_UNREACHABLE' } });
    expect(JSON.stringify(connector.status())).not.toContain('Оксана');
  });

  it('a bridge with another protocol: nothing is listed', async () => {
    bridge = await startMockBridge({ protocol: '1.0.0' });
    const { connector, intake } = await setup();
    await expect(connector.pollOnce()).rejects.toMatchObject({ code: 'BRIDGE_PROTOCOL_UNSUPPORTED' });
    expect(bridge.requests.some((r) => r.endpoint === 'list')).toBe(false);
    expect(intake.submissions).toHaveLength(0);
  });

  it('does not hold the bearer token in status or errors', async () => {
    bridge = await startMockBridge({ auth: { type: 'bearer', token: 'top-secret-token' } });
    const { connector } = await setup({ auth: { type: 'bearer', token: 'wrong-secret-token' } });
    await expect(connector.pollOnce()).rejects.toMatchObject({ code: 'BRIDGE_AUTH_REJECTED' });
    expect(JSON.stringify(connector.status())).not.toContain('secret');
  });
});

describe('BridgeConnector: the ReceiptCreated sink', () => {
  it('drafts for its own fiscalized sales only', async () => {
    const { connector } = await setup({ ids: IDS_120 });
    const { job } = await connector.fiscalizeById('346042');
    const done = fiscalized(job);
    expect(connector.sink.draft({ type: 'job.failed', job: done })).toEqual([]);
    const foreign = {
      ...done,
      bill: { ...done.bill!, account: '131' },
      summary: { ...done.summary, account: '131' },
    };
    expect(connector.sink.draft({ type: 'job.fiscalized', job: foreign })).toEqual([]);
    expect(
      connector.sink.draft({ type: 'job.fiscalized', job: { ...done, operation: 'sellReturn' } }),
    ).toEqual([]);
    const drafts = connector.sink.draft({ type: 'job.fiscalized', job: done });
    expect(drafts).toMatchObject([{ kind: 'bridge.receiptCreated', jobId: job.id }]);
    const { event } = drafts[0]!.payload as ReceiptCreatedPayload;
    expect(event).toMatchObject({
      userId: IDS_120.userId,
      data: { shiftId: '1359', storeId: IDS_120.storeId },
    });
    expect(event).not.toHaveProperty('timestamp');
  });

  it('a fiscalized job without fiscal data cannot be drafted', async () => {
    const { connector } = await setup();
    const { job } = await connector.fiscalizeById('346042');
    expect(() => connector.sink.draft({ type: 'job.fiscalized', job })).toThrow(/no fiscal data/);
  });

  it('deliver classifies failures and every retry reuses the drafted ids, with a fresh timestamp', async () => {
    let clock = Date.parse('2025-12-15T12:37:24.000Z');
    const { connector, bridge } = await setup(
      { ids: IDS_120, timeoutMs: 200 },
      { now: () => new Date(clock) },
    );
    const { job } = await connector.fiscalizeByNumber('1307622');
    const entry = entryOf(connector, fiscalized(job, '2025-12-15T12:37:19.000Z'));
    const drafted = (entry.payload as ReceiptCreatedPayload).event;

    bridge.setFault({ kind: 'rejectReceipts', status: 500, times: 1 });
    const serverError = await deliveryError(connector.sink.deliver(entry));
    expect(serverError).toMatchObject({ code: 'HTTP_500', permanent: false });

    bridge.setFault({ kind: 'rejectReceipts', status: 429, retryAfterSeconds: 7, times: 1 });
    const tooMany = await deliveryError(connector.sink.deliver(entry));
    expect(tooMany).toMatchObject({ code: 'HTTP_429', permanent: false, retryAfterMs: 7_000 });

    bridge.setFault({ kind: 'rejectReceipts', status: 400, times: 1 });
    const badRequest = await deliveryError(connector.sink.deliver(entry));
    expect(badRequest).toMatchObject({ code: 'HTTP_400', permanent: true });

    await bridge.down();
    const down = await deliveryError(connector.sink.deliver(entry));
    expect(down).toMatchObject({ code: 'BRIDGE_UNREACHABLE', permanent: false });
    await bridge.up();

    bridge.setFault({ kind: 'hang', endpoint: 'receipts', times: 1 });
    const hung = await deliveryError(connector.sink.deliver(entry));
    expect(hung).toMatchObject({ code: 'BRIDGE_TIMEOUT', permanent: false });

    clock = Date.parse('2025-12-15T12:40:00.000Z');
    await connector.sink.deliver(entry);
    expect(bridge.receipts).toHaveLength(1);
    const sent = bridge.receipts[0]!.body as ReceiptCreatedEvent;
    expect(sent.id).toBe(drafted.id);
    expect(sent.data.id).toBe(drafted.data.id);
    expect(sent.timestamp).toBe(Date.parse('2025-12-15T12:40:00.000Z'));
    const { timestamp: _timestamp, ...rest } = sent;
    expect(rest).toEqual(drafted);
    expect(Object.keys(sent)).toEqual(['id', 'data', 'type', 'userId', 'version', 'timestamp']);
    expect(sent.data).toMatchObject({
      totalAmount: 3442.71,
      paymentSource: 'PAY_CARD',
      dateTime: '2025-12-15T12:37:19.000Z',
    });
  });

  it('an entry that is not a ReceiptCreated draft is a permanent failure', async () => {
    const { connector } = await setup();
    const error = await deliveryError(
      connector.sink.deliver({
        kind: 'bridge.receiptCreated',
        payload: { nonsense: true },
        id: 'E9',
        seq: 9,
        sink: 'bridge:120',
        state: 'pending',
        createdAt: new Date().toISOString(),
      }),
    );
    expect(error).toMatchObject({ code: 'BRIDGE_REPORT_MALFORMED', permanent: true });
  });
});
