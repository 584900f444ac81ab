import { describe, expect } from 'vitest';
import { PrintRefusedError } from '../../src/agent/devices/device.js';
import { it } from './e2e.js';
import { FN_NUMBER, pairedFile, until } from './support.js';

describe('master queue mode, end to end with a real Agent', () => {
  it('prints queued operations, approves them in our shift, rejects what cannot print', async ({
    mock,
    dir,
    open,
  }) => {
    const sale = mock.enqueueOperation({
      name: '00042',
      positions: [
        { name: 'Хлеб', priceKop: 5_990, quantity: '2' },
        { name: 'Молоко', priceKop: 8_950, vat: 10 },
      ],
      cashSum: 20_930,
    });
    const refused = mock.enqueueOperation({ name: '00043', positions: [{ name: 'Сок', priceKop: 12_000 }] });
    // 12 % VAT has no register tax type: rejected without printing.
    const unprintable = mock.enqueueOperation({
      name: '00044',
      positions: [{ name: 'Плов', priceKop: 30_000, vat: 12 }],
    });
    const credentials = await pairedFile(mock, dir);
    const harness = await open(credentials, { mode: 'master' });
    const { agent, device } = harness;
    device.refuse = (job) =>
      job.bill?.number === '00043' ? new PrintRefusedError('KKT_FN_FULL', 'ФН переполнен', false) : undefined;

    await until(
      () => mock.approvals.length === 1 && mock.rejections.length === 2,
      'one approve, two rejects',
    );
    await until(() => agent.jobs.countByState().REPORTED === 1, 'the sale REPORTED');
    const [shift] = [...mock.shifts.values()];
    const approve = mock.approvals[0]!;
    expect(approve.syncId).toBe(sale);
    expect(approve.body).toMatchObject({
      meta: { type: 'retaildemand', id: sale },
      cheque: {
        fiscal: true,
        fnNumber: FN_NUMBER,
        fiscalDocNumber: '502',
        fiscalDocSign: '3000000502',
        sum: 20_930,
        time: '2026-11-22 10:02:00',
      },
      chequePrinter: {
        vendor: 'АТОЛ',
        name: 'АТОЛ 30Ф',
        serial: '00106712345678',
        firmwareVersion: '5.8.100',
      },
      taxSystem: 'SIMPLIFIED_TAX_SYSTEM_INCOME',
      retailShift: { meta: { href: expect.stringContaining(`/entity/retailshift/syncid/${shift!.syncId}`) } },
    });
    const rejectBodies = Object.fromEntries(mock.rejections.map((r) => [r.syncId, r.body.fiscalErrMsg]));
    expect(rejectBodies[refused]).toMatch(/KKT_FN_FULL: ФН переполнен/);
    expect(rejectBodies[unprintable]).toMatch(/12%/);
    expect(device.printed.map((job) => job.bill?.number)).toEqual(['00042']);
    // MoySklad's own cashier goes on the receipt (tags 1021, 1203), looked up in the store's cashier list.
    expect(device.printed[0]?.bill?.cashier).toEqual({ name: 'Иванов Иван', inn: '222490425273' });
    expect(mock.events.map((e) => e.kind).slice(0, 2)).toEqual(['openshift', 'approve']);
    expect(mock.operations.map((op) => op.status)).toEqual(['OK', 'REJECTED', 'REJECTED']);

    // The queue is drained: later polls find nothing, and nothing was handed in twice.
    const polls = mock.counters.byRoute['GET /cheque/rpc/master/poll/{id}'] ?? 0;
    await until(
      () => (mock.counters.byRoute['GET /cheque/rpc/master/poll/{id}'] ?? 0) >= polls + 3,
      'more polls',
    );
    expect(Object.values(agent.jobs.countByState()).reduce((a, b) => a + b, 0)).toBe(3);
    expect(mock.duplicates).toEqual([]);
  });

  it('does not spin on an operation the queue hands out again before it is approved', async ({
    mock,
    dir,
    open,
  }) => {
    const credentials = await pairedFile(mock, dir);
    const op = mock.enqueueOperation({ name: '1', positions: [{ name: 'Вода', priceKop: 4_000 }] });
    const device = new (await import('./support.js')).ShiftRegister();
    device.close(); // the print waits: the approve cannot happen yet
    const harness = await open(credentials, { mode: 'master' }, device);
    await until(() => (mock.operations[0]?.handedOut ?? 0) >= 4, 'the operation handed out repeatedly');
    // One poll request per cycle: a known head of the queue ends the cycle.
    const polls = mock.counters.byRoute['GET /cheque/rpc/master/poll/{id}'] ?? 0;
    expect(polls).toBe(mock.operations[0]!.handedOut);
    expect(Object.values(harness.agent.jobs.countByState()).reduce((a, b) => a + b, 0)).toBe(1);
    device.open();
    await until(() => mock.approvals.length === 1, 'approve');
    expect(mock.approvals[0]!.syncId).toBe(op);
    expect(device.printed).toHaveLength(1);
  });
});
