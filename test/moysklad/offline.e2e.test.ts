import { describe, expect } from 'vitest';
import { pairMoysklad } from '../../src/agent/connectors/moysklad/pairing.js';
import { REPORT_KINDS } from '../../src/agent/connectors/moysklad/reports.js';
import { it } from './e2e.js';
import { pairedFile, ShiftRegister, until } from './support.js';

describe.each([
  { mode: 'master' as const, document: 'approve' as const },
  { mode: 'customerOrders' as const, document: 'retaildemand' as const },
])('offline replay in order ($mode)', ({ mode, document }) => {
  // 'once': the queue hands both operations out although neither is approved yet.
  it.override({ mockOptions: { masterRedelivery: 'once' } });

  it('sends openshift → 2 documents → closeshift, each exactly once, when MoySklad comes back', async ({
    mock,
    dir,
    open,
  }) => {
    if (mode === 'master') {
      mock.enqueueOperation({ name: 'S-1', positions: [{ name: 'Кофе', priceKop: 25_000 }] });
      mock.enqueueOperation({ name: 'S-2', positions: [{ name: 'Чай', priceKop: 15_000 }], cashSum: 15_000 });
    } else {
      mock.addOrder({
        name: 'Z-1',
        moment: '2026-11-22 08:00:00',
        positions: [{ name: 'Кофе', priceKop: 25_000 }],
      });
      mock.addOrder({
        name: 'Z-2',
        moment: '2026-11-22 08:01:00',
        positions: [{ name: 'Чай', priceKop: 15_000 }],
      });
    }
    const credentials = await pairedFile(mock, dir);
    const device = new ShiftRegister();
    device.close();
    const harness = await open(credentials, { mode }, device);
    const { agent } = harness;
    await until(
      () => agent.jobs.countByState().RECEIVED + agent.jobs.countByState().PRINTING === 2,
      'two bills taken',
    );

    mock.down = true;
    await device.openShift();
    device.open();
    await until(
      () => device.printed.length === 2 && agent.jobs.countByState().FISCALIZED === 2,
      'two receipts',
    );
    await device.closeShift();
    const pending = () => agent.outbox.entries({ sink: 'moysklad:shop', state: 'pending' });
    await until(() => pending().length === 4, 'four reports queued');
    expect(pending().map((entry) => entry.kind)).toEqual([
      REPORT_KINDS.openShift,
      document === 'approve' ? REPORT_KINDS.approve : REPORT_KINDS.retailDemand,
      document === 'approve' ? REPORT_KINDS.approve : REPORT_KINDS.retailDemand,
      REPORT_KINDS.closeShift,
    ]);
    await until(
      () => (agent.outbox.sinkStats()['moysklad:shop']?.attempts ?? 0) >= 2,
      'failed attempts while down',
    );
    expect(harness.connector.status().online).toBe(false);
    expect(mock.events).toEqual([]);

    mock.down = false;
    await until(() => mock.eventsOf('closeshift').length === 1, 'closeshift after the replay');
    await until(() => agent.jobs.countByState().REPORTED === 2, 'both REPORTED');
    expect(mock.events.map((event) => event.kind)).toEqual(['openshift', document, document, 'closeshift']);
    const syncIds = mock.events.map((event) => event.syncId);
    expect(new Set(syncIds).size).toBe(3); // the shift's syncId twice (open, close), two documents
    expect(mock.duplicates).toEqual([]);
    const [shift] = [...mock.shifts.values()];
    expect(mock.events.every((event) => event.shiftSyncId === shift!.syncId)).toBe(true);
    expect(harness.connector.status().online).toBe(true);
  });
});

describe('the current shift survives a restart', () => {
  it('puts a receipt printed after a restart into the shift opened before it', async ({
    mock,
    dir,
    open,
  }) => {
    const credentials = await pairedFile(mock, dir);
    const device = new ShiftRegister();
    let harness = await open(credentials, { mode: 'master' }, device);
    await device.openShift();
    await until(() => mock.eventsOf('openshift').length === 1, 'openshift');
    await harness.stop();

    mock.enqueueOperation({ name: 'R-1', positions: [{ name: 'Булка', priceKop: 4_500 }] });
    harness = await open(credentials, { mode: 'master' }, device);
    await until(() => mock.approvals.length === 1, 'approve after the restart');
    expect(mock.eventsOf('openshift')).toHaveLength(1);
    expect(mock.approvals[0]!.body).toMatchObject({
      retailShift: { meta: { href: expect.stringContaining(mock.eventsOf('openshift')[0]!.syncId!) } },
    });
    expect(harness.connector.status().details).toMatchObject({
      shifts: [{ deviceId: 'kkt-1', number: 42, syncId: mock.eventsOf('openshift')[0]!.syncId, receipts: 1 }],
    });
  });

  it('opens a shift MoySklad never heard of before the first document in it', async ({ mock, dir, open }) => {
    const credentials = await pairedFile(mock, dir);
    const device = new ShiftRegister();
    device.shiftOpen = true; // opened before this store was paired: no shift.opened event
    mock.enqueueOperation({ name: 'A-1', positions: [{ name: 'Сок', priceKop: 9_900 }] });
    const _harness = await open(credentials, { mode: 'master' }, device);
    await until(() => mock.approvals.length === 1, 'approve');
    expect(mock.events.map((event) => event.kind)).toEqual(['openshift', 'approve']);
    const [shift] = [...mock.shifts.values()];
    expect(shift).toMatchObject({ name: '41', openmoment: '2026-11-22 10:01:00' });
    expect(mock.approvals[0]!.body).toMatchObject({
      retailShift: { meta: { href: expect.stringContaining(shift!.syncId) } },
    });
  });
});

describe('a refused token (12017)', () => {
  it('raises a re-pair alert, keeps the reports pending, and sends them after a new pairing', async ({
    mock,
    dir,
    open,
  }) => {
    const credentials = await pairedFile(mock, dir);
    const device = new ShiftRegister();
    const harness = await open(credentials, { mode: 'master' }, device);
    await until(() => harness.connector.status().lastSuccessAt, 'first successful poll');

    // Another device attaches the store: our token dies.
    mock.revokeTokens();
    await device.openShift();
    await until(() => harness.connector.status().details?.alert, 'alert');
    const status = harness.connector.status();
    expect(status.online).toBe(false);
    expect(status.details?.alert).toMatchObject({
      code: 'MOYSKLAD_REPAIR_REQUIRED',
      message: expect.stringMatching(/pair/),
    });
    expect(status.lastError?.code).toBe('MOYSKLAD_REPAIR_REQUIRED');
    const { agent } = harness;
    await until(() => (agent.outbox.sinkStats()['moysklad:shop']?.attempts ?? 0) >= 2, 'retried');
    expect(agent.outbox.entries({ sink: 'moysklad:shop', state: 'dead' })).toEqual([]);
    expect(agent.outbox.entries({ sink: 'moysklad:shop', state: 'pending' })).toHaveLength(1);
    expect((await agent.status()).connectors[0]?.details?.alert).toMatchObject({
      code: 'MOYSKLAD_REPAIR_REQUIRED',
    });

    mock.store.authTokenAttached = false;
    await pairMoysklad({
      login: mock.admin.login,
      password: mock.admin.password,
      out: credentials,
      baseUrl: mock.url,
    });
    await until(() => mock.eventsOf('openshift').length === 1, 'openshift after re-pairing');
    await until(() => harness.connector.status().details?.alert === undefined, 'alert cleared');
    expect(harness.connector.status().online).toBe(true);
  });
});
