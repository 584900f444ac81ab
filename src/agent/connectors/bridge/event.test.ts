import { describe, expect, it } from 'vitest';
import { parseJsonLossless } from '../../../lib/json.js';
import type { Bill } from '../../domain/index.js';
import { type BridgeIdentity, buildReceiptCreated, paymentSourceOf, withTimestamp } from './event.js';
import { mapBridgeBill } from './mapping.js';

const IDENTITY: BridgeIdentity = {
  userId: '01-000000000233309',
  storeId: '20170606-69FB-40FF-805C-7724F9A7F221',
  deviceId: '20170525-C638-40EF-80D6-0B53FE6D9F9F',
  employeeId: '20190512-47A9-407B-8081-E9AE45B3F345',
};
const EVENT_ID = '77fb892f-87ce-43f1-b998-48c848b3073f';
const RECEIPT_ID = '8a86801b-41c6-4417-b253-b54db39dafee';

const customer = (name: string) =>
  `{"id":55,"inn":"","kpp":"","reg":"","name":"${name} ","okpo":"","fullname":"${name} ","legalentity":false}`;

// A synthetic bill made by the rules of docs/protocol/bridge-api-v2.md §4–5: tea sold by the gram at 5 %.
const BILL_7001 = `{"id":7001,"date":"2026-02-10 11:05:00","summ":1049.75,"number":"7001-CRM","customer":${customer('Пётр Иванов')},"products":[{"id":901,"type":"NORMAL","price":12.35,"taxrate":"5%","itemType":1,"prodname":"Чай улун, развес","quantity":85,"unitname":"Грамм"}],"prepayment":0,"prepaymentEnable":true}`;

// Synthetic, by docs/protocol/bridge-api-v2.md §5: 215.50 × 3 at 7 %, 6.03 at 20 % (exactly half a kopeck),
// 99.99 at 22 %.
const BILL_A5 = `{"id":7002,"date":"2026-02-10 12:30:00","summ":752.52,"number":"7002-CRM","customer":${customer('Анна')},"products":[{"id":902,"type":"NORMAL","price":215.50,"taxrate":"7%","itemType":1,"prodname":"Сыворотка","quantity":3,"unitname":"Штука"},{"id":903,"type":"NORMAL","price":6.03,"taxrate":"20%","itemType":1,"prodname":"Ватные диски","quantity":1,"unitname":"Штука"},{"id":904,"type":"NORMAL","price":99.99,"taxrate":"22%","itemType":1,"prodname":"Маска","quantity":1,"unitname":"Штука"}],"prepayment":0,"prepaymentEnable":true}`;

const FISCAL = { dateTimeUtc: '2026-02-10T08:06:12.000Z', shiftNumber: 110 };

function eventFor(billText: string, payment: 'card' | 'cash' = 'card', fiscal = FISCAL) {
  const bill = mapBridgeBill(parseJsonLossless(billText), { account: '120', payment });
  return buildReceiptCreated({ bill, fiscal, identity: IDENTITY, eventId: EVENT_ID, receiptId: RECEIPT_ID });
}

describe('buildReceiptCreated', () => {
  it('A.10: 85 g of tea at 12.35, VAT 5 % → the documented item, tax 49.99', () => {
    const event = eventFor(BILL_7001);
    expect(JSON.stringify(event.data.items[0])).toBe(
      '{"id":"901","tax":49.99,"name":"Чай улун, развес","price":12.35,"discount":0,"itemType":"NORMAL","quantity":85,"sumPrice":1049.75,"costPrice":0,"taxPercent":5,"measureName":"Грамм"}',
    );
    expect(event.data.totalAmount).toBe(1049.75);
    expect(event.data.totalTax).toBe(49.99);
  });

  it('A.5: half-up per item (7 % → 42.29, 20 % of 6.03 → 1.01, 22 % → 18.03), totalTax their sum', () => {
    const { data } = eventFor(BILL_A5);
    expect(data.items.map((item) => [item.sumPrice, item.taxPercent, item.tax])).toEqual([
      [646.5, 7, 42.29],
      [6.03, 20, 1.01],
      [99.99, 22, 18.03],
    ]);
    expect(data.totalTax).toBe(61.33);
    expect(data.totalAmount).toBe(752.52);
    expect(JSON.stringify(data.items[0]!.price)).toBe('215.5');
  });

  it('fills the envelope from the identity, the fiscal data and the bill', () => {
    const event = withTimestamp(eventFor(BILL_7001), 1_770_710_777_000);
    expect(event).toMatchObject({
      id: EVENT_ID,
      type: 'ReceiptCreated',
      userId: IDENTITY.userId,
      version: 2,
      timestamp: 1_770_710_777_000,
      data: {
        id: RECEIPT_ID,
        type: 'SELL',
        extras: {
          date: '2026-02-10 11:05:00',
          billId: '7001',
          number: '7001-CRM',
          customer: {
            inn: '',
            kpp: '',
            reg: '',
            name: 'Пётр Иванов ',
            okpo: '',
            fullname: 'Пётр Иванов ',
            legalentity: false,
          },
          prepayment: 0,
          contentModified: false,
          settlementMethod: 'FullSettlement',
        },
        shiftId: '110',
        storeId: IDENTITY.storeId,
        dateTime: '2026-02-10T08:06:12.000Z',
        deviceId: IDENTITY.deviceId,
        infoCheck: false,
        employeeId: IDENTITY.employeeId,
        paymentSource: 'PAY_CARD',
        totalDiscount: 0,
      },
    });
    expect(Object.keys(event.data.extras.customer)).not.toContain('id');
    expect(Object.keys(event)).toEqual(['id', 'data', 'type', 'userId', 'version', 'timestamp']);
  });

  it('writes the fiscal time as whole UTC seconds with .000Z', () => {
    const event = eventFor(BILL_7001, 'card', {
      dateTimeUtc: '2026-02-10T11:06:12.345+03:00',
      shiftNumber: 7,
    });
    expect(event.data.dateTime).toBe('2026-02-10T08:06:12.000Z');
  });

  it('an offset advance is echoed in extras.prepayment; the payment source is what was paid today', () => {
    const bill = mapBridgeBill(parseJsonLossless(BILL_7001.replace('"prepayment":0', '"prepayment":1000')), {
      account: '120',
      payment: 'cash',
      prepayment: 'offsetElsewhere',
    });
    const event = buildReceiptCreated({
      bill,
      fiscal: FISCAL,
      identity: IDENTITY,
      eventId: EVENT_ID,
      receiptId: RECEIPT_ID,
    });
    expect(event.data.extras).toMatchObject({ prepayment: 1000, settlementMethod: 'FullSettlement' });
    expect(event.data.totalAmount).toBe(1049.75);
    expect(event.data.paymentSource).toBe('PAY_CASH');
  });

  it('a cash bill is PAY_CASH', () => {
    expect(eventFor(BILL_7001, 'cash').data.paymentSource).toBe('PAY_CASH');
  });

  it('prints weights and fractional prices as their shortest decimal text', () => {
    const bill = `{"id":1,"date":"2026-02-10 12:00:00","summ":472.5,"number":"1","customer":${customer('И')},"products":[{"id":5,"type":"NORMAL","price":1890.00,"taxrate":"20%","itemType":1,"prodname":"Кофе","quantity":0.250,"unitname":"Килограмм"}],"prepayment":0,"prepaymentEnable":true}`;
    expect(JSON.stringify(eventFor(bill).data.items[0])).toBe(
      '{"id":"5","tax":78.75,"name":"Кофе","price":1890,"discount":0,"itemType":"NORMAL","quantity":0.25,"sumPrice":472.5,"costPrice":0,"taxPercent":20,"measureName":"Килограмм"}',
    );
  });

  it('refuses a bill that did not come from the bridge mapping', () => {
    const bill = mapBridgeBill(parseJsonLossless(BILL_7001), { account: '120', payment: 'card' });
    const foreign: Bill = { ...bill, sourceData: { something: 'else' } };
    expect(() =>
      buildReceiptCreated({
        bill: foreign,
        fiscal: FISCAL,
        identity: IDENTITY,
        eventId: EVENT_ID,
        receiptId: RECEIPT_ID,
      }),
    ).toThrow(/sourceData/);
  });
});

describe('paymentSourceOf (mixed payments: the larger part decides, a tie is card)', () => {
  it.each([
    [[{ type: 'card' as const, amountMinor: 100 }], 'PAY_CARD'],
    [[{ type: 'cash' as const, amountMinor: 100 }], 'PAY_CASH'],
    [
      [
        { type: 'cash' as const, amountMinor: 700 },
        { type: 'card' as const, amountMinor: 300 },
      ],
      'PAY_CASH',
    ],
    [
      [
        { type: 'cash' as const, amountMinor: 300 },
        { type: 'card' as const, amountMinor: 700 },
      ],
      'PAY_CARD',
    ],
    [
      [
        { type: 'cash' as const, amountMinor: 500 },
        { type: 'card' as const, amountMinor: 500 },
      ],
      'PAY_CARD',
    ],
  ])('%j → %s', (payments, expected) => {
    expect(paymentSourceOf(payments)).toBe(expected);
  });
});
