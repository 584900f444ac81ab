import { describe, expect, it } from 'vitest';
import { type RetailDemandDraft, renderApprove, renderCloseShift, renderRetailDemand } from './reports.js';

const BASE = 'https://online.moysklad.ru/api/posap/1.0';
const cheque = {
  fiscal: true,
  online: false,
  printed: true,
  sumKop: 123_60,
  time: '2026-11-22 10:00:00',
  fnNumber: '1',
};

const demand: RetailDemandDraft = {
  account: 'shop',
  billId: 'customerorder:x',
  syncId: '11111111-2222-4333-8444-555555555555',
  shift: { deviceId: 'kkt-1', number: 3, syncId: '21111111-2222-4333-8444-555555555555' },
  name: '502',
  moment: '2026-11-22 10:00:00',
  customerOrder: { href: `${BASE}/entity/customerorder/0f175046-dbca-11e6-5bed-427b00000079` },
  vatEnabled: true,
  positions: [
    {
      assortment: { href: `${BASE}/entity/product/p` },
      quantityMilli: 350,
      priceKop: 89_990,
      vat: 10,
      vatEnabled: true,
    },
  ],
  cashSumKop: 0,
  noCashSumKop: 31_497,
  cheque,
};

describe('rendering drafts for the wire', () => {
  it('writes kopecks as integers and quantities as exact decimals', () => {
    const text = renderRetailDemand(demand, '21111111-2222-4333-8444-555555555555', {
      baseUrl: BASE,
      chequeSumUnit: 'kopecks',
    });
    expect(text).toContain('"quantity":0.35,"price":89990,"discount":0,"vat":10');
    expect(text).toContain('"cashSum":0,"noCashSum":31497');
    expect(text).toContain('"sum":12360');
    expect(text).toContain(
      `"href":"${BASE}/entity/retaildemand/syncid/11111111-2222-4333-8444-555555555555"`,
    );
    expect(text).toContain(`"href":"${BASE}/entity/retailshift/syncid/21111111-2222-4333-8444-555555555555"`);
  });

  it('writes cheque.sum in rubles when configured, without a float in between', () => {
    const approve = renderApprove(
      { account: 'shop', billId: 'b', operation: { href: 'x' }, shift: { deviceId: 'k' }, cheque },
      '21111111-2222-4333-8444-555555555555',
      { baseUrl: BASE, chequeSumUnit: 'rubles' },
    );
    expect(approve).toContain('"sum":123.6');
  });

  it('puts the open data and the end counters into closeshift', () => {
    const text = renderCloseShift(
      {
        account: 'shop',
        shift: { deviceId: 'k', number: 3 },
        closemoment: '2026-11-22 20:00:00',
        end: { shiftNumber: '3', time: '2026-11-22 20:00:00', chequesTotal: 15, fiscalDocsTotal: 17 },
      },
      '21111111-2222-4333-8444-555555555555',
      { shiftNumber: '3', time: '2026-11-22 10:00:00' },
      { baseUrl: BASE, chequeSumUnit: 'kopecks' },
    );
    expect(JSON.parse(text)).toMatchObject({
      closemoment: '2026-11-22 20:00:00',
      cheque: { start: { shiftNumber: '3' }, end: { chequesTotal: 15, fiscalDocsTotal: 17 } },
    });
  });
});
