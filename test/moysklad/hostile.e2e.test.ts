import { describe, expect } from 'vitest';
import { LosslessNumber } from '../../src/lib/json.js';
import { it } from './e2e.js';
import { type Harness, pairedFile, ShiftRegister, until } from './support.js';

const total = (h: Harness) => Object.values(h.agent.jobs.countByState()).reduce((a, b) => a + b, 0);

describe('malformed and hostile answers', () => {
  it('survives garbage, HTML and a hang on the master poll, and fiscalizes the operation once', async ({
    mock,
    dir,
    open,
  }) => {
    mock.inject({ kind: 'garbage', path: /master\/poll/ });
    mock.inject({ kind: 'html200', path: /master\/poll/ });
    mock.inject({ kind: 'processThenHang', path: /master\/poll/ }); // handed out, answer lost
    mock.enqueueOperation({ name: 'H-1', positions: [{ name: 'Хлеб', priceKop: 5_000 }] });
    const credentials = await pairedFile(mock, dir);
    // 1 s, not 200 ms: the hang must time out, but a slow openshift on a loaded machine must not be retried
    // (its replay shows up in mock.duplicates; seen at load 25).
    const harness = await open(credentials, { mode: 'master', timeoutMs: 1_000 });
    await until(() => mock.approvals.length === 1, 'approve');
    expect(harness.device.printed).toHaveLength(1);
    expect(total(harness)).toBe(1);
    expect(mock.duplicates).toEqual([]);
    expect(harness.connector.status().details?.lastPoll).toBeDefined();
  });

  it('records a malformed-answer error in status and prints nothing from it', async ({ mock, dir, open }) => {
    mock.inject({ kind: 'garbage', path: /customerorder/, times: 1000 });
    mock.addOrder({ name: 'G-1', positions: [{ name: 'Чай', priceKop: 1_000 }] });
    const credentials = await pairedFile(mock, dir);
    const harness = await open(credentials, { mode: 'customerOrders' });
    await until(
      () => harness.connector.status().lastError?.code === 'MOYSKLAD_MALFORMED_RESPONSE',
      'malformed error',
    );
    expect(harness.connector.status().lastError?.message).toMatch(/GET \/entity\/customerorder/);
    expect(total(harness)).toBe(0);
    mock.clearFaults();
    await until(() => mock.demands.length === 1, 'the order once the answers are sane');
  });

  it('refuses a huge answer without reading it', async ({ mock, dir, open }) => {
    mock.inject({ kind: 'huge', path: /customerorder/, bytes: 2 * 1024 * 1024, times: 1000 });
    const credentials = await pairedFile(mock, dir);
    const harness = await open(credentials, { mode: 'customerOrders', maxResponseBytes: 256 * 1024 });
    await until(
      () => harness.connector.status().lastError?.code === 'MOYSKLAD_RESPONSE_TOO_LARGE',
      'too large',
    );
    expect(total(harness)).toBe(0);
  });

  it('rejects orders and operations with wrong types, printing none of them', async ({ mock, dir, open }) => {
    const credentials = await pairedFile(mock, dir);
    const good = mock.addOrder({ name: 'OK-1', positions: [{ name: 'Сок', priceKop: 9_000 }] });
    // Wrong types: a price as a string, a quantity as an object.
    const broken = mock.addOrder({ name: 'BAD-1', positions: [{ name: 'Сок', priceKop: 9_000 }] });
    (broken.positions as Array<Record<string, unknown>>)[0]!.price = '90.00';
    mock.addRawOrder({ id: 42, name: ['x'], positions: 'none' });
    // Fractional kopecks cannot be printed: the order becomes a FAILED job.
    const fractional = mock.addOrder({ name: 'BAD-2', positions: [{ name: 'Сок', priceKop: 9_000 }] });
    (fractional.positions as Array<Record<string, unknown>>)[0]!.price = new LosslessNumber('100.5');
    const harness = await open(credentials, { mode: 'customerOrders' });
    await until(() => mock.demands.length === 1, 'the good order');
    await until(
      () =>
        (harness.connector.status().details?.lastPoll as { result: { rejected: number } } | undefined)
          ?.result,
      'a poll',
    );
    const lastPoll = harness.connector.status().details?.lastPoll as { result: Record<string, number> };
    expect(lastPoll.result).toMatchObject({ unreadable: 2 });
    expect(harness.device.printed.map((job) => job.bill?.number)).toEqual(['OK-1']);
    const failed = harness.agent.jobs.inState('FAILED');
    expect(failed.map((job) => job.summary.number)).toEqual(['BAD-2']);
    expect(failed[0]!.failure?.field).toBe('order.positions[0].price');
    expect(mock.demands[0]!.body).toMatchObject({ customerOrder: { meta: { id: good.id } } });
  });

  it('counts a create whose answer was lost as delivered when the replay meets 3006', async ({
    mock,
    dir,
    open,
  }) => {
    mock.inject({ kind: 'processThenHang', path: /entity\/retaildemand/ });
    mock.addOrder({ name: 'L-1', positions: [{ name: 'Вода', priceKop: 3_000 }] });
    const credentials = await pairedFile(mock, dir);
    const harness = await open(credentials, { mode: 'customerOrders', timeoutMs: 200, retries: 0 });
    await until(() => harness.agent.jobs.countByState().REPORTED === 1, 'REPORTED');
    expect(mock.demands).toHaveLength(1);
    expect(mock.duplicates).toEqual([{ kind: 'retaildemand', syncId: mock.demands[0]!.syncId }]);
    expect(harness.device.printed).toHaveLength(1);
  });

  it('sends a sale refused with 18000 to the dead letter, and retries 5xx and 1074', async ({
    mock,
    dir,
    open,
  }) => {
    mock.inject({ kind: 'maintenance1074', path: /openshift/ });
    mock.inject({ kind: 'html502', path: /openshift/ });
    mock.inject({ kind: 'apiError', path: /entity\/retaildemand/, status: 400, code: 18000 });
    mock.addOrder({ name: 'M-1', positions: [{ name: 'Вода', priceKop: 3_000 }] });
    const credentials = await pairedFile(mock, dir);
    const harness = await open(credentials, { mode: 'customerOrders', retries: 0 });
    const { agent } = harness;
    const dead = await until(
      () => agent.outbox.entries({ sink: 'moysklad:shop', state: 'dead' })[0],
      'dead letter',
    );
    expect(dead.lastError).toMatchObject({ code: 'MOYSKLAD_SUM_MISMATCH' });
    expect(mock.eventsOf('openshift')).toHaveLength(1);
    expect(mock.demands).toEqual([]);
    expect(agent.jobs.countByState().FISCALIZED).toBe(1);
  });

  it('reopens a shift MoySklad lost (12012) and then delivers the document', async ({ mock, dir, open }) => {
    const credentials = await pairedFile(mock, dir);
    const device = new ShiftRegister();
    const _harness = await open(credentials, { mode: 'master' }, device);
    await device.openShift();
    await until(() => mock.eventsOf('openshift').length === 1, 'openshift');
    mock.shifts.clear(); // e.g. deleted in MoySklad
    mock.enqueueOperation({ name: 'X-1', positions: [{ name: 'Сок', priceKop: 9_900 }] });
    await until(() => mock.approvals.length === 1, 'approve');
    expect(mock.events.map((event) => event.kind)).toEqual(['openshift', 'openshift', 'approve']);
    expect(new Set(mock.eventsOf('openshift').map((event) => event.syncId)).size).toBe(1);
  });
});
