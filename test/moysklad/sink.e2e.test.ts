import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MoyskladConnector } from '../../src/agent/connectors/moysklad/connector.js';
import { REPORT_KINDS } from '../../src/agent/connectors/moysklad/reports.js';
import type { ConnectorContext } from '../../src/agent/connectors/types.js';
import type { BillIntake } from '../../src/agent/jobs/intake.js';
import type { Job } from '../../src/agent/jobs/job.js';
import { DeliveryError } from '../../src/agent/outbox/deliveryError.js';
import { Outbox } from '../../src/agent/outbox/outbox.js';
import type { AgentEvent, OutboxDraft, OutboxEntry, ReportSink } from '../../src/agent/outbox/sink.js';
import { AgentDatabase } from '../../src/agent/store/database.js';
import { type MockMoysklad, startMockMoysklad } from './mockServer.js';
import { MemoryStore, pairedFile, tempDir, testAccount } from './support.js';

/** The sink on its own: drafts made before start, entries that are not ours, shifts MoySklad never saw. */

let mock: MockMoysklad;
let dir: { path: string; remove: () => Promise<void> };
const connectors: MoyskladConnector[] = [];

beforeEach(async () => {
  mock = await startMockMoysklad();
  dir = await tempDir();
});

afterEach(async () => {
  for (const connector of connectors.splice(0)) await connector.stop();
  await mock.close();
  await dir.remove();
});

const noIntake: BillIntake = {
  submit: () => Promise.reject(new Error('unused')),
  reject: () => Promise.reject(new Error('unused')),
  find: () => undefined,
};

function context(store: MemoryStore): ConnectorContext {
  return { intake: noIntake, store, logger: pino({ level: 'silent' }), devices: async () => [] };
}

let seq = 0;
const entry = (draft: OutboxDraft): OutboxEntry => ({
  ...draft,
  id: `e${++seq}`,
  seq,
  sink: 'moysklad:shop',
  state: 'pending',
  createdAt: new Date().toISOString(),
});

function fiscalizedJob(orderId: string, shiftNumber: number): Job {
  const now = new Date().toISOString();
  const bill = {
    source: 'moysklad',
    account: 'shop',
    billId: `customerorder:${orderId}`,
    number: 'N1',
    currency: 'RUB',
    positions: [
      {
        name: 'Чай',
        priceMinor: 10_000,
        quantityMilli: 1000,
        amountMinor: 10_000,
        unit: 'piece' as const,
        vat: 'vat20' as const,
        vatMinor: 1667,
        paymentMethod: 'fullPayment' as const,
        paymentObject: 'commodity' as const,
      },
    ],
    payments: [{ type: 'card' as const, amountMinor: 10_000 }],
    totalMinor: 10_000,
    sourceData: {
      kind: 'customerorder',
      orderId,
      order: { href: `${mock.url}/entity/customerorder/${orderId}`, type: 'customerorder', id: orderId },
      vatEnabled: true,
      positions: [
        {
          assortment: { href: `${mock.url}/entity/product/p1` },
          priceKop: 10_000,
          vat: 20,
          vatEnabled: true,
        },
      ],
    },
  };
  return {
    id: 'J1',
    key: `moysklad/shop/${bill.billId}`,
    seq: 1,
    bill,
    summary: { source: 'moysklad', account: 'shop', billId: bill.billId },
    operation: 'sell',
    deviceId: 'kkt-1',
    state: 'FISCALIZED',
    receivedAt: now,
    updatedAt: now,
    trigger: { kind: 'test' },
    attempts: 1,
    fiscal: {
      deviceId: 'kkt-1',
      deviceKind: 'atol',
      fiscalDocumentNumber: 77,
      fiscalSign: '123',
      dateTime: '2026-11-22T10:00:00+03:00',
      dateTimeUtc: '2026-11-22T07:00:00.000Z',
      shiftNumber,
      receiptNumber: '1',
      totalMinor: 10_000,
    },
  };
}

describe('the MoySklad sink on its own', () => {
  it('drafts a document before start without a shift, and opens that shift at delivery', async () => {
    const order = mock.addOrder({ name: 'N1', positions: [{ name: 'Чай', priceKop: 10_000 }] });
    const credentials = await pairedFile(mock, dir.path);
    const connector = new MoyskladConnector(
      testAccount(mock, credentials, { mode: 'customerOrders', customerOrders: { autoFiscalize: false } }),
    );
    connectors.push(connector);
    const drafts = connector.sink!.draft({
      type: 'job.fiscalized',
      job: fiscalizedJob(order.id as string, 9),
    });
    expect(drafts.map((d) => d.kind)).toEqual([REPORT_KINDS.retailDemand]);
    expect((drafts[0]!.payload as { shift: { syncId?: string } }).shift.syncId).toBeUndefined();
    const early = await connector.sink!.deliver(entry(drafts[0]!)).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(DeliveryError);
    expect(early).toMatchObject({ code: 'MOYSKLAD_NOT_STARTED', permanent: false });

    await connector.start(context(new MemoryStore()));
    await connector.sink!.deliver(entry(drafts[0]!));
    expect(mock.events.map((e) => e.kind)).toEqual(['openshift', 'retaildemand']);
    expect([...mock.shifts.values()][0]).toMatchObject({ name: '9' });
    // Delivered again (the outbox's at-least-once): the same syncIds, counted as delivered, nothing new.
    await connector.sink!.deliver(entry(drafts[0]!));
    expect(mock.demands).toHaveLength(1);
  });

  it('skips closing a shift MoySklad never saw, and refuses entries that are not its own', async () => {
    const credentials = await pairedFile(mock, dir.path);
    const connector = new MoyskladConnector(testAccount(mock, credentials, { mode: 'master' }));
    connectors.push(connector);
    await connector.start(context(new MemoryStore()));
    const [close] = connector.sink!.draft({
      type: 'shift.closed',
      deviceId: 'kkt-1',
      shift: {
        shiftNumber: 5,
        dateTime: '2026-11-22T20:00:00+03:00',
        dateTimeUtc: '2026-11-22T17:00:00.000Z',
      },
    });
    await connector.sink!.deliver(entry(close!));
    expect(mock.events).toEqual([]);
    const foreign = await connector
      .sink!.deliver(entry({ kind: 'receipt', payload: {} }))
      .catch((e: unknown) => e);
    expect(foreign).toMatchObject({ code: 'MOYSKLAD_REPORT_UNAVAILABLE', permanent: true });
    const otherAccount = await connector
      .sink!.deliver(
        entry({
          kind: REPORT_KINDS.reject,
          payload: { account: 'other', billId: 'b', operation: {}, fiscalErrMsg: 'x' },
        }),
      )
      .catch((e: unknown) => e);
    expect(otherAccount).toMatchObject({ permanent: true });
  });

  it('ignores shift events of other registers when a device is configured, and other sources’ jobs', async () => {
    const credentials = await pairedFile(mock, dir.path);
    const connector = new MoyskladConnector(testAccount(mock, credentials, { device: 'kkt-1' }));
    connectors.push(connector);
    const shift = {
      shiftNumber: 1,
      dateTime: '2026-11-22T10:00:00+03:00',
      dateTimeUtc: '2026-11-22T07:00:00.000Z',
    };
    expect(connector.sink!.draft({ type: 'shift.opened', deviceId: 'kkt-2', shift })).toEqual([]);
    expect(connector.sink!.draft({ type: 'shift.opened', deviceId: 'kkt-1', shift })).toHaveLength(1);
    const job = fiscalizedJob('0f175046-dbca-11e6-5bed-427b00000079', 1);
    expect(
      connector.sink!.draft({
        type: 'job.fiscalized',
        job: {
          ...job,
          bill: { ...job.bill!, source: 'bridge' },
          summary: { ...job.summary, source: 'bridge' },
        },
      }),
    ).toEqual([]);
    expect(connector.sink!.draft({ type: 'job.failed', job: { ...job, state: 'FAILED' } })).toEqual([]);
  });

  it('shows unusable credentials in status instead of failing the agent start', async () => {
    const connector = new MoyskladConnector(testAccount(mock, `${dir.path}/missing.json`));
    connectors.push(connector);
    await connector.start(context(new MemoryStore()));
    expect(connector.status()).toMatchObject({
      online: false,
      details: {
        alert: { code: 'MOYSKLAD_CREDENTIALS_UNUSABLE', message: expect.stringMatching(/moysklad pair/) },
      },
    });
  });

  it('changes nothing while drafting: a publish that failed on another sink and ran again counts one receipt', async () => {
    const order = mock.addOrder({ name: 'N1', positions: [{ name: 'Чай', priceKop: 10_000 }] });
    const credentials = await pairedFile(mock, dir.path);
    const connector = new MoyskladConnector(
      testAccount(mock, credentials, { mode: 'customerOrders', customerOrders: { autoFiscalize: false } }),
    );
    connectors.push(connector);
    await connector.start(context(new MemoryStore()));
    const db = AgentDatabase.open(`${dir.path}/agent.db`, { fsync: false });
    const outbox = new Outbox(db, pino({ level: 'silent' }));
    let failNext = false;
    const flaky: ReportSink = {
      name: 'flaky',
      draft: () => {
        if (failNext) {
          failNext = false;
          throw new Error('this sink cannot draft right now');
        }
        return [];
      },
      deliver: async () => undefined,
    };
    outbox.addSink(connector.sink);
    outbox.addSink(flaky);
    const shift = {
      shiftNumber: 9,
      dateTime: '2026-11-22T09:00:00+03:00',
      dateTimeUtc: '2026-11-22T06:00:00.000Z',
    };
    await outbox.publish({ type: 'shift.opened', deviceId: 'kkt-1', shift });
    const fiscalized: AgentEvent = { type: 'job.fiscalized', job: fiscalizedJob(order.id as string, 9) };
    // A draft alone is no report: the registry does not count it.
    connector.sink.draft(fiscalized);
    failNext = true;
    // The flaky sink's failed draft cancels nobody else's (issue 18.4): MoySklad's report is journaled at once,
    // and the publish run again drafts the flaky sink alone.
    const first = await outbox.publish(fiscalized);
    expect(first.map((entry) => entry.sink)).toEqual([connector.name]);
    expect(await outbox.publish(fiscalized)).toEqual([]);
    const [close] = await outbox.publish({
      type: 'shift.closed',
      deviceId: 'kkt-1',
      shift: { ...shift, dateTime: '2026-11-22T20:00:00+03:00', dateTimeUtc: '2026-11-22T17:00:00.000Z' },
    });
    expect((close!.payload as { end: { chequesTotal?: number } }).end.chequesTotal).toBe(1);
    expect(connector.status().details?.['shifts']).toEqual([]);
    const entries = outbox.entries({ sink: connector.name });
    expect(entries.map((entry) => entry.kind)).toEqual([
      REPORT_KINDS.openShift,
      REPORT_KINDS.retailDemand,
      REPORT_KINDS.closeShift,
    ]);
    // The shift's syncId is the one its journaled open report carries, and the documents name it.
    const openSyncId = (entries[0]!.payload as { shift: { syncId: string } }).shift.syncId;
    expect((entries[1]!.payload as { shift: { syncId?: string } }).shift.syncId).toBe(openSyncId);
    expect((entries[2]!.payload as { shift: { syncId?: string } }).shift.syncId).toBe(openSyncId);
    await outbox.stop();
    db.close();
  });

  it('a store rebuilt after an SD-card swap reports a sale again under the same syncIds: one shift, one sale', async () => {
    const order = mock.addOrder({ name: 'N1', positions: [{ name: 'Чай', priceKop: 10_000 }] });
    const credentials = await pairedFile(mock, dir.path);
    const job = fiscalizedJob(order.id as string, 9);
    job.fiscal = { ...job.fiscal!, fnNumber: '7380440700000001' };
    const reportOnce = async () => {
      // Each run is a new card: an empty connector store, so the shift is adopted afresh.
      const connector = new MoyskladConnector(
        testAccount(mock, credentials, { mode: 'customerOrders', customerOrders: { autoFiscalize: false } }),
      );
      connectors.push(connector);
      await connector.start(context(new MemoryStore()));
      const event: AgentEvent = { type: 'job.fiscalized', job };
      const drafts = connector.sink.draft(event);
      connector.sink.recorded?.(event, drafts);
      for (const draft of drafts) await connector.sink.deliver(entry(draft));
      await connector.stop();
      connectors.splice(connectors.indexOf(connector), 1);
      return drafts.map((draft) => (draft.payload as { syncId?: string }).syncId);
    };
    const first = await reportOnce();
    const second = await reportOnce();
    expect(second).toEqual(first);
    // MoySklad answered 3006 to the repeats (the mock's reading of a repeated syncId), counted as delivered.
    expect(mock.demands).toHaveLength(1);
    expect(mock.shifts.size).toBe(1);
    expect(mock.duplicates.map((d) => d.kind).sort()).toEqual(['openshift', 'retaildemand']);
  });
});
