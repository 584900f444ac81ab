import { describe, expect, it } from 'vitest';
import { parseJsonLossless } from '../../../lib/json.js';
import { cashierByUid, storeCashiers } from './cashiers.js';
import {
  customerOrderSkipReason,
  mapCustomerOrder,
  mapMasterOperation,
  masterOperationKey,
  parseCustomerOrder,
  readSourceData,
} from './mapping.js';
import { retailStoreSchema } from './wire.js';

const BASE = 'https://online.moysklad.ru/api/posap/1.0';
const ORDER_ID = '0f175046-dbca-11e6-5bed-427b00000079';

function position(fields: string) {
  return `{ "assortment": { "meta": { "href": "${BASE}/entity/product/d90cda3b-1f6c-11e7-8a7f-40d000000003", "type": "product" }, "name": "good1", "code": "00034", "uom": "шт", "paymentItemType": "GOOD" }, ${fields} }`;
}

/** An order as GET /entity/customerorder returns it (B.5.7), parsed losslessly like the client does. */
function order(positions: string[], extra = '') {
  const base = parseJsonLossless(`{
      "meta": { "href": "${BASE}/entity/customerorder/${ORDER_ID}", "type": "customerorder", "id": "${ORDER_ID}", "idType": "native" },
      "id": "${ORDER_ID}", "name": "00001", "moment": "2017-01-16 11:59:00",
      "vatEnabled": true, "vatIncluded": true,
      "positions": [${positions.join(',')}],
      "paidInCash": 0, "paidNoCash": 0, "paidByQr": 0, "shippedSum": 0
    }`) as Record<string, unknown>;
  const overrides = parseJsonLossless(`{${extra.replace(/^\s*,/, '')}}`) as Record<string, unknown>;
  return parseCustomerOrder({ ...base, ...overrides });
}

describe('customer order → bill', () => {
  it('names the cashier the agent works as, when given', () => {
    const bill = mapCustomerOrder(order([position('"quantity": 1, "price": 500, "vat": 22')]), {
      account: 'shop',
      payment: 'card',
      cashier: { name: 'Иванов Иван Иванович', inn: '222490425273' },
    });
    expect(bill.cashier).toEqual({ name: 'Иванов Иван Иванович', inn: '222490425273' });
  });

  it('maps kopeck prices, decimal quantities, discounts and the B.5.9 VAT semantics', () => {
    const bill = mapCustomerOrder(
      order([
        position('"quantity": 2, "price": 6000, "vat": 20, "vatEnabled": true, "discount": 0'),
        position('"quantity": 0.35, "price": 89990, "vat": 10, "vatEnabled": true, "discount": 0'),
        position('"quantity": 1, "price": 3500, "vat": 0, "vatEnabled": false, "discount": 0'),
        position('"quantity": 1, "price": 3500, "vat": 0, "vatEnabled": true, "discount": 0'),
        position('"quantity": 3, "price": 999, "vat": 20, "vatEnabled": true, "discount": 12.5'),
      ]),
      { account: 'shop', payment: 'cash', defaultTaxSystem: 'SIMPLIFIED_TAX_SYSTEM_INCOME' },
    );
    expect(bill.positions.map((p) => [p.priceMinor, p.quantityMilli, p.amountMinor, p.vat])).toEqual([
      [6000, 2000, 12_000, 'vat20'],
      [89_990, 350, 31_497, 'vat10'],
      [3500, 1000, 3500, 'none'],
      [3500, 1000, 3500, 'vat0'],
      // 9.99 less 12.5 % = 8.74125 → 8.74 per unit
      [874, 3000, 2622, 'vat20'],
    ]);
    expect(bill).toMatchObject({
      source: 'moysklad',
      account: 'shop',
      billId: `customerorder:${ORDER_ID}`,
      number: '00001',
      currency: 'RUB',
      taxationSystem: 'usnIncome',
      totalMinor: 12_000 + 31_497 + 3500 + 3500 + 2622,
      payments: [{ type: 'cash', amountMinor: 53_119 }],
    });
    const source = readSourceData(bill);
    expect(source).toMatchObject({
      kind: 'customerorder',
      orderId: ORDER_ID,
      order: { id: ORDER_ID, type: 'customerorder' },
      vatEnabled: true,
      positions: [
        { priceKop: 6000, vat: 20, vatEnabled: true },
        { priceKop: 89_990, vat: 10 },
        { priceKop: 3500, vat: 0, vatEnabled: false },
        { priceKop: 3500, vat: 0, vatEnabled: true },
        { priceKop: 874 },
      ],
    });
  });

  it('takes the document vatEnabled when a position has none, and refuses what cannot print', () => {
    const inherited = mapCustomerOrder(
      order([position('"quantity": 1, "price": 100, "vat": 20')], ', "vatEnabled": false'),
      {
        account: 'a',
        payment: 'card',
      },
    );
    expect(inherited.positions[0]?.vat).toBe('none');
    expect(() =>
      mapCustomerOrder(order([position('"quantity": 1, "price": 100, "vat": 12, "vatEnabled": true')]), {
        account: 'a',
        payment: 'card',
      }),
    ).toThrow(/12% has no register tax type/);
    expect(() =>
      mapCustomerOrder(order([position('"quantity": 1, "price": 100.5, "vat": 20')]), {
        account: 'a',
        payment: 'card',
      }),
    ).toThrow(/order\.positions\[0\]\.price/);
    expect(() =>
      mapCustomerOrder(order([position('"quantity": 0.0001, "price": 100, "vat": 20')]), {
        account: 'a',
        payment: 'card',
      }),
    ).toThrow(/quantity/);
    expect(() =>
      mapCustomerOrder(
        order([position('"quantity": 1, "price": 100')], ', "taxSystem": "PRESUMPTIVE_TAX_SYSTEM"'),
        { account: 'a', payment: 'card' },
      ),
    ).toThrow(/ЕНВД/);
    const onTop = order([position('"quantity": 1, "price": 100')], ', "vatIncluded": false');
    expect(() => mapCustomerOrder(onTop, { account: 'a', payment: 'card' })).toThrow(/on top/);
  });

  it('rejects rows that are not orders, naming the field', () => {
    expect(() => parseCustomerOrder(parseJsonLossless('{"id": 42, "positions": []}'))).toThrow(/order\.meta/);
    expect(() =>
      parseCustomerOrder(
        parseJsonLossless(
          `{"meta": {"href": "x"}, "id": "${ORDER_ID}", "name": "1", "positions": [{"quantity": "1"}]}`,
        ),
      ),
    ).toThrow(/positions\[0\]/);
  });

  it('skips orders that are paid, prepaid or shipped', () => {
    expect(customerOrderSkipReason(order([position('"quantity": 1, "price": 100')]))).toBeUndefined();
    expect(
      customerOrderSkipReason(order([position('"quantity": 1, "price": 100')], ', "paidNoCash": 100')),
    ).toMatch(/paid/);
    expect(
      customerOrderSkipReason(order([position('"quantity": 1, "price": 100')], ', "shippedSum": 100')),
    ).toMatch(/shipped/);
    expect(
      customerOrderSkipReason(order([position('"quantity": 1, "price": 100')], ', "prepayments": [{}]')),
    ).toMatch(/prepayments/);
  });
});

describe('master operation → bill', () => {
  const SYNC = 'a4a94924-ab7a-447e-b1ae-6b874242cbdd';
  const operation = (type: string, money: string) =>
    parseJsonLossless(`{
      "meta": { "href": "${BASE}/entity/${type}/syncid/${SYNC}", "type": "${type}", "id": "${SYNC}", "idType": "sync" },
      "name": "000219991", "moment": "2016-09-06 21:41:46",
      "positions": [${position('"quantity": 2, "price": 500, "vat": 20, "vatEnabled": true')}],
      ${money}, "vatEnabled": true, "vatIncluded": true, "taxSystem": "GENERAL_TAX_SYSTEM"
    }`);

  it('reads the key from the syncId meta and maps the payment split', () => {
    const raw = operation('retaildemand', '"cashSum": 400, "noCashSum": 500, "qrSum": 100');
    const key = masterOperationKey(raw)!;
    expect(key).toMatchObject({ billId: `retaildemand:${SYNC}`, number: '000219991', type: 'retaildemand' });
    const { bill, operation: op } = mapMasterOperation(raw, key, { account: 'shop' });
    expect(op).toBe('sell');
    expect(bill.payments).toEqual([
      { type: 'cash', amountMinor: 400 },
      { type: 'card', amountMinor: 600 },
    ]);
    expect(bill.taxationSystem).toBe('osn');
    expect(readSourceData(bill)).toMatchObject({
      kind: 'master',
      operationType: 'retaildemand',
      taxSystem: 'GENERAL_TAX_SYSTEM',
    });
    const refund = mapMasterOperation(
      operation('retailsalesreturn', '"noCashSum": 1000'),
      masterOperationKey(operation('retailsalesreturn', '"noCashSum": 1000'))!,
      {
        account: 'shop',
      },
    );
    expect(refund.operation).toBe('sellReturn');
  });

  it("names MoySklad's own cashier on the receipt: the operation's cashier, looked up in the store's list", () => {
    // The store's cashier row as the seed's GET /settings/retailstore/ example shows it (B.5.1).
    const store = retailStoreSchema.parse(
      parseJsonLossless(`{
        "id": "5d4d2ca2-7b1d-11e6-8a84-bae500000060", "name": "Точка продаж",
        "cashiers": { "rows": [
          { "meta": { "href": "${BASE}/entity/employee/a4f36276-7b5a-11e6-8a84-bae500000004", "type": "employee" },
            "uid": "cashier@myorg", "firstName": "Иван", "middleName": "Иванович", "lastName": "Иванов",
            "inn": "222490425273", "position": "position", "email": "ivanov@myorg.ru" },
          { "meta": { "href": "${BASE}/entity/employee/b4f36276-7b5a-11e6-8a84-bae500000005" },
            "uid": "nameless@myorg" },
          { "meta": 7, "uid": "odd@myorg", "lastName": 42, "firstName": "Ольга" }
        ] }
      }`),
    );
    const cashiers = storeCashiers(store);
    expect(cashiers.map((c) => c.cashier)).toEqual([
      { name: 'Иванов Иван Иванович', inn: '222490425273' },
      { name: 'Ольга' },
    ]);
    const withCashier = (employee: string) => {
      const raw = operation('retaildemand', '"cashSum": 1000') as Record<string, unknown>;
      return { ...raw, cashier: { meta: { href: `${BASE}/entity/employee/${employee}`, type: 'employee' } } };
    };
    const raw = withCashier('A4F36276-7B5A-11E6-8A84-BAE500000004');
    const { bill } = mapMasterOperation(raw, masterOperationKey(raw)!, { account: 'shop', cashiers });
    expect(bill.cashier).toEqual({ name: 'Иванов Иван Иванович', inn: '222490425273' });

    const unknown = withCashier('c4f36276-7b5a-11e6-8a84-bae500000006');
    expect(
      mapMasterOperation(unknown, masterOperationKey(unknown)!, { account: 'shop', cashiers }).bill.cashier,
    ).toBeUndefined();
    const odd = {
      ...(operation('retaildemand', '"cashSum": 1000') as Record<string, unknown>),
      cashier: 'Иванов',
    };
    expect(
      mapMasterOperation(odd, masterOperationKey(odd)!, { account: 'shop', cashiers }).bill.cashier,
    ).toBeUndefined();

    expect(cashierByUid(cashiers, 'Cashier@MyOrg')).toEqual({
      name: 'Иванов Иван Иванович',
      inn: '222490425273',
    });
    expect(cashierByUid(cashiers, 'nameless@myorg')).toBeUndefined();
  });

  it('maps a prepayment for a customer order to full prepayment at 20/120, its return, and the sale that offsets it', () => {
    // `customerOrder` as the POS API's seed shows it on a prepayment and a sale (docs/moysklad.md).
    const order = `"customerOrder": { "meta": { "href": "${BASE}/entity/customerorder/syncid/288bd078-800c-11e6-8a84-bae5000000a2" } }`;
    const prepayment = operation('prepayment', `"cashSum": 1000, ${order}`);
    const mapped = mapMasterOperation(prepayment, masterOperationKey(prepayment)!, { account: 'a' });
    expect(mapped.operation).toBe('sell');
    expect(mapped.bill.order).toBe('customerorder:288bd078-800c-11e6-8a84-bae5000000a2');
    expect(mapped.bill.positions[0]).toMatchObject({ paymentMethod: 'fullPrepayment', vat: 'vat120' });
    const back = operation('prepaymentreturn', `"cashSum": 1000, ${order}`);
    const returned = mapMasterOperation(back, masterOperationKey(back)!, { account: 'a' });
    expect(returned).toMatchObject({ operation: 'sellReturn', bill: { order: mapped.bill.order } });
    const sale = operation('retaildemand', `"prepaymentCash": 1000, ${order}`);
    const final = mapMasterOperation(sale, masterOperationKey(sale)!, { account: 'a' }).bill;
    expect(final).toMatchObject({
      order: mapped.bill.order,
      payments: [{ type: 'prepaid', amountMinor: 1000 }],
    });
    expect(final.positions[0]?.paymentMethod).toBe('fullPayment');
    const orphan = operation('prepayment', '"cashSum": 1000');
    expect(() => mapMasterOperation(orphan, masterOperationKey(orphan)!, { account: 'a' })).toThrow(
      /customer order/,
    );
  });

  it("takes the buyer's contact (1008) from cheque.phone / cheque.email, by the store's priority", () => {
    // The `cheque` of the seed's minion retail demand (POST /cheque/minion/entity/retaildemand): "phone —
    // where the electronic receipt is sent", "email — likewise" (docs/protocol/moysklad-posap.md §4).
    const SEED_CHEQUE =
      '"cheque": { "fiscal": true, "online": true, "printed": true, "phone": "89992223311", "email": "1@m.com", "number": "4165132132", "sum": 123.6, "fnNumber": "1223334444", "fiscalDocSign": "111222333", "fiscalDocNumber": "1234567", "time": "2016-09-06 21:41:46" }';
    const raw = operation('retaildemand', `"cashSum": 1000, ${SEED_CHEQUE}`);
    const key = masterOperationKey(raw)!;
    // Brought to "+{digits}" by the one rule of docs/fiscalization.md (8 is the trunk prefix).
    expect(mapMasterOperation(raw, key, { account: 'a' }).bill.customer).toEqual({
      emailOrPhone: '+79992223311',
    });
    expect(
      mapMasterOperation(raw, key, { account: 'a', phonePriority: true }).bill.customer?.emailOrPhone,
    ).toBe('+79992223311');
    expect(
      mapMasterOperation(raw, key, { account: 'a', phonePriority: false }).bill.customer?.emailOrPhone,
    ).toBe('1@m.com');
    const emailOnly = operation(
      'retaildemand',
      '"cashSum": 1000, "cheque": { "phone": "", "email": " 1@m.com " }',
    );
    expect(mapMasterOperation(emailOnly, key, { account: 'a' }).bill.customer?.emailOrPhone).toBe('1@m.com');
    // The quick-start example's top-level names.
    const quickStart = operation(
      'retaildemand',
      '"cashSum": 1000, "chequeEmail": "test@test.org", "chequePhone": "123456"',
    );
    expect(mapMasterOperation(quickStart, key, { account: 'a', phonePriority: false }).bill.customer).toEqual(
      {
        emailOrPhone: 'test@test.org',
      },
    );
    // Its "123456" is nobody's phone: chosen, it refuses the operation naming the field.
    expect(() => mapMasterOperation(quickStart, key, { account: 'a', phonePriority: true })).toThrow(
      expect.objectContaining({
        field: 'operation.chequePhone',
        message: expect.not.stringContaining('123456'),
      }),
    );
    const none = operation('retaildemand', '"cashSum": 1000, "cheque": { "online": false }');
    expect(mapMasterOperation(none, key, { account: 'a' }).bill.customer).toBeUndefined();
    // Too long for tag 1008: refused, naming the field and not the value.
    const long = `${'x'.repeat(60)}@m.com`;
    const tooLong = operation('retaildemand', `"cashSum": 1000, "cheque": { "email": "${long}" }`);
    const error = (() => {
      try {
        mapMasterOperation(tooLong, key, { account: 'a' });
      } catch (e) {
        return e as { code: string; field: string; message: string };
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: 'MOYSKLAD_BILL_UNSUPPORTED', field: 'operation.cheque.email' });
    expect(error?.message).not.toContain(long);
    const notText = operation('retaildemand', '"cashSum": 1000, "cheque": { "phone": 89992223311 }');
    expect(() => mapMasterOperation(notText, key, { account: 'a' })).toThrow(/cheque\.phone/);
  });

  it('takes no contact when the operation says no electronic receipt (cheque.online or electronicCheque false)', () => {
    // The seed's minion cheque with its "electronic receipt flag" off, and the quick-start's names with
    // `electronicCheque: false`: the phone is there, but nobody asked for the receipt to go to it.
    const offline = operation(
      'retaildemand',
      '"cashSum": 1000, "cheque": { "fiscal": true, "online": false, "printed": true, "phone": "89992223311", "email": "1@m.com" }',
    );
    const key = masterOperationKey(offline)!;
    expect(mapMasterOperation(offline, key, { account: 'a' }).bill.customer).toBeUndefined();
    const quickStart = (electronic: boolean) =>
      operation(
        'retaildemand',
        `"cashSum": 1000, "chequeEmail": "test@test.org", "chequePhone": "123456", "electronicCheque": ${electronic}, "paperCheque": true`,
      );
    expect(mapMasterOperation(quickStart(false), key, { account: 'a' }).bill.customer).toBeUndefined();
    expect(
      mapMasterOperation(quickStart(true), key, { account: 'a', phonePriority: false }).bill.customer,
    ).toEqual({ emailOrPhone: 'test@test.org' });
  });

  it('refuses missing payments and sums that do not add up', () => {
    const unpaid = operation('retaildemand', '"cashSum": 0');
    expect(() => mapMasterOperation(unpaid, masterOperationKey(unpaid)!, { account: 'a' })).toThrow(/paid/);
    const short = operation('retaildemand', '"cashSum": 990');
    expect(() => mapMasterOperation(short, masterOperationKey(short)!, { account: 'a' })).toThrow(
      /payments add up to/,
    );
    expect(masterOperationKey({ meta: { href: 'nonsense' } })).toBeUndefined();
    expect(masterOperationKey('garbage')).toBeUndefined();
  });
});

describe('marked goods from MoySklad (docs/moysklad.md, "Marked goods")', () => {
  /** The position of the POS API's retail demand example (seed 003, B.5.x): two pieces, two `marks[].cis`. */
  const MARKS =
    '"marks": [ { "cis": "12345678900987ABCDEFGabcdefgh" }, { "cis": "00000046185372KY4mjNZAB=U/FkO" } ]';
  const demand = (positions: string[]) =>
    parseJsonLossless(`{
      "meta": { "href": "${BASE}/entity/retaildemand/syncid/388bd178-800c-11e6-8a84-bae5000000a2", "type": "retaildemand", "idType": "sync" },
      "name": "000219991", "moment": "2016-09-06 21:41:46",
      "positions": [${positions.join(',')}],
      "cashSum": 1000, "vatEnabled": true, "vatIncluded": true
    }`);
  const tracked = (fields: string, tracking = 'SHOES', uom = 'шт', weight = false) =>
    `{ "assortment": { "meta": { "href": "${BASE}/entity/product/ace86997-6113-11e9-ac13-000c000000c9", "type": "product" }, "name": "shoes", "uom": "${uom}", "soldByWeight": ${weight}, "trackingType": "${tracking}" }, ${fields} }`;
  const map = (raw: unknown) => mapMasterOperation(raw, masterOperationKey(raw)!, { account: 'shop' }).bill;

  it('gives each marked piece its own position with its code (quantity 2, two marks → two positions)', () => {
    const bill = map(demand([tracked(`"quantity": 2, "price": 500, "vat": 20, ${MARKS}`)]));
    expect(bill.positions.map((p) => [p.quantityMilli, p.amountMinor, p.marking?.code])).toEqual([
      [1000, 500, '12345678900987ABCDEFGabcdefgh'],
      [1000, 500, '00000046185372KY4mjNZAB=U/FkO'],
    ]);
    expect(bill.totalMinor).toBe(1000);
  });

  it('keeps a weighed marked position whole, with its one code', () => {
    const bill = map(
      demand([
        tracked(
          '"quantity": 0.5, "price": 2000, "vat": 20, "marks": [ { "cis": "0104680029460908215jcmHzLmkdPML" } ]',
          'MILK',
          'кг',
          true,
        ),
      ]),
    );
    expect(bill.positions).toHaveLength(1);
    expect(bill.positions[0]).toMatchObject({ quantityMilli: 500, unit: 'kilogram', amountMinor: 1000 });
    expect(bill.positions[0]!.marking).toEqual({ code: '0104680029460908215jcmHzLmkdPML' });
  });

  it('refuses a tracked position without a code, naming it, instead of printing it unmarked', () => {
    expect(() => map(demand([tracked('"quantity": 2, "price": 500, "vat": 20')]))).toThrow(
      /operation\.positions\[0\]\.marks.*"shoes" is marked goods \(SHOES\)/,
    );
  });

  it('refuses a number of codes that does not match the pieces', () => {
    expect(() =>
      map(
        demand([
          tracked(
            '"quantity": 3, "price": 500, "vat": 20, "marks": [ { "cis": "12345678900987ABCDEFGabcdefgh" } ]',
          ),
        ]),
      ),
    ).toThrow(/1 marking code\(s\) for a quantity of 3/);
  });

  it('leaves an untracked position as it was', () => {
    const bill = map(demand([tracked('"quantity": 2, "price": 500, "vat": 20', 'NOT_TRACKED')]));
    expect(bill.positions).toHaveLength(1);
    expect(bill.positions[0]!.marking).toBeUndefined();
  });
});
