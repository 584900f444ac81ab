import { describe, expect } from 'vitest';
import { REPORT_KINDS } from '../../src/agent/connectors/moysklad/reports.js';
import { it } from './e2e.js';
import { FN_NUMBER, pairedFile, REG_NUMBER, until } from './support.js';

const jobKey = (orderId: string) => ({
  source: 'moysklad',
  account: 'shop',
  billId: `customerorder:${orderId}`,
});

describe('customer orders mode, end to end with a real Agent', () => {
  it('fiscalizes posted orders once and reports openshift → retail demands → closeshift', async ({
    mock,
    dir,
    open,
  }) => {
    const first = mock.addOrder({
      name: '00017',
      moment: '2026-11-22 09:00:00',
      withAgent: true,
      positions: [
        { name: 'Кофе в зёрнах 1 кг', priceKop: 129_900, vat: 22 },
        { name: 'Сыр весовой', priceKop: 89_990, quantity: '0.350', vat: 10, uom: 'кг' },
      ],
    });
    const second = mock.addOrder({
      name: '00018',
      moment: '2026-11-22 09:05:00',
      positions: [
        { name: 'Книга', priceKop: 50_000, vat: 0, vatEnabled: false, discount: '10' },
        { name: 'Доставка', priceKop: 30_000, vat: 22, paymentItemType: 'SERVICE' },
      ],
    });
    // Already paid online: a different flow, left alone.
    mock.addOrder({ name: '00019', positions: [{ name: 'Чай', priceKop: 10_000 }], paidNoCash: 10_000 });
    const credentials = await pairedFile(mock, dir);
    const harness = await open(credentials, { mode: 'customerOrders', customerOrders: { payment: 'card' } });
    const { agent, device } = harness;

    await until(() => mock.demands.length === 2, 'two retail demands');
    await until(() => agent.jobs.countByState().REPORTED === 2, 'both jobs REPORTED');
    await device.closeShift();
    await until(() => mock.eventsOf('closeshift').length === 1, 'closeshift');

    expect(mock.events.map((event) => event.kind)).toEqual([
      'openshift',
      'retaildemand',
      'retaildemand',
      'closeshift',
    ]);
    const [shift] = [...mock.shifts.values()];
    expect(shift).toMatchObject({ name: '42', state: 'closed' });
    expect(mock.events.every((event) => event.shiftSyncId === shift!.syncId)).toBe(true);
    expect(shift!.open).toMatchObject({
      cheque: {
        start: { fnNumber: FN_NUMBER, kktRegNumber: REG_NUMBER, shiftNumber: '42', fiscalDocNumber: '501' },
      },
    });
    expect(shift!.close).toMatchObject({
      cheque: {
        start: { shiftNumber: '42', fiscalDocNumber: '501' },
        end: { shiftNumber: '42', fiscalDocNumber: '504', chequesTotal: 2, fiscalDocsTotal: 4 },
      },
    });

    const byOrder = (id: unknown) =>
      mock.demands.find((d) => (d.body.customerOrder as { meta: { id: string } }).meta.id === id)!.body;
    const demand1 = byOrder(first.id);
    // 1299.00 + round(899.90 × 0.35) = 1299.00 + 314.97
    expect(demand1).toMatchObject({
      name: '502',
      cashSum: 0,
      noCashSum: 129_900 + 31_497,
      vatEnabled: true,
      vatIncluded: true,
      agent: { meta: { type: 'counterparty' } },
      positions: [
        { quantity: 1, price: 129_900, vat: 22, vatEnabled: true },
        { quantity: 0.35, price: 89_990, vat: 10, vatEnabled: true },
      ],
      cheque: {
        fiscal: true,
        printed: true,
        fnNumber: FN_NUMBER,
        fiscalDocNumber: '502',
        fiscalDocSign: '3000000502',
        sum: 129_900 + 31_497,
        number: '1',
        time: '2026-11-22 10:02:00',
      },
    });
    expect((demand1.meta as { href: string }).href).toMatch(/\/entity\/retaildemand\/syncid\/[0-9a-f-]{36}$/);
    const demand2 = byOrder(second.id);
    // A 10 % discount is printed as the discounted price; без НДС stays vat 0 + vatEnabled false.
    expect(demand2.positions).toMatchObject([
      { price: 45_000, discount: 0, vat: 0, vatEnabled: false },
      { price: 30_000, vat: 22, vatEnabled: true },
    ]);
    expect(demand2.noCashSum).toBe(75_000);

    // More polls: nothing new prints, nothing is reported twice.
    const pollsBefore = mock.counters.byRoute['GET /entity/customerorder'] ?? 0;
    await until(
      () => (mock.counters.byRoute['GET /entity/customerorder'] ?? 0) >= pollsBefore + 3,
      'three more polls',
    );
    expect(device.printed).toHaveLength(2);
    // The agent fiscalizes orders as the cashier it was paired as: that person goes on the receipt.
    expect(device.printed.map((job) => job.bill?.cashier)).toEqual([
      { name: 'Иванов Иван', inn: '222490425273' },
      { name: 'Иванов Иван', inn: '222490425273' },
    ]);
    expect(mock.demands).toHaveLength(2);
    expect(mock.duplicates).toEqual([]);
    expect(agent.jobs.findByBill(jobKey(first.id as string))?.state).toBe('REPORTED');
    const status = harness.connector.status();
    expect(status.online).toBe(true);
    expect(status.details).toMatchObject({ mode: 'customerOrders', alert: undefined });
  });

  it('fiscalizes an order on a command, by number and by id, once', async ({ mock, dir, open }) => {
    const order = mock.addOrder({ name: 'A-7', positions: [{ name: 'Пицца', priceKop: 65_000 }] });
    const credentials = await pairedFile(mock, dir);
    const harness = await open(credentials, {
      mode: 'customerOrders',
      customerOrders: { autoFiscalize: false },
    });
    const { connector, agent } = harness;
    const first = await connector.fiscalizeOnCommand({
      number: 'A-7',
      payment: 'cash',
      trigger: { kind: 'command' },
    });
    expect(first.duplicate).toBe(false);
    const again = await connector.fiscalizeOnCommand({
      billId: order.id as string,
      trigger: { kind: 'command' },
    });
    expect(again).toMatchObject({ duplicate: true, job: { id: first.job.id } });
    await until(() => agent.jobs.get(first.job.id)?.state === 'REPORTED', 'REPORTED');
    expect(mock.demands).toHaveLength(1);
    expect(mock.demands[0]!.body).toMatchObject({ customerOrder: { meta: { id: order.id } } });
    expect(mock.demands[0]!.body).toMatchObject({ cashSum: 65_000, noCashSum: 0 });
    await expect(
      connector.fiscalizeOnCommand({ number: 'nope', trigger: { kind: 'command' } }),
    ).rejects.toMatchObject({
      code: 'MOYSKLAD_ORDER_NOT_FOUND',
    });
    expect(agent.outbox.entries({ sink: 'moysklad:shop' }).map((e) => e.kind)).toEqual([
      REPORT_KINDS.openShift,
      REPORT_KINDS.retailDemand,
    ]);
  });
});
