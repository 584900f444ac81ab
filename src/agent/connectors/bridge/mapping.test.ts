import { describe, expect, it } from 'vitest';
import { KktAgentError, ValidationError } from '../../../lib/errors.js';
import { parseJsonLossless } from '../../../lib/json.js';
import { BillTotalMismatchError } from '../../domain/index.js';
import { mapBridgeBill, readBridgeSourceData } from './mapping.js';

const CUSTOMER = {
  id: 159550,
  inn: '',
  kpp: '',
  reg: '',
  name: 'Оксана Кокорина Викторовна ',
  okpo: '',
  fullname: 'Оксана Кокорина Викторовна ',
  legalentity: false,
};

// A synthetic bill made by the rules of docs/protocol/bridge-api-v2.md §4–5: tea sold by the gram at 5 %.
const BILL_7001 =
  '{"id":7001,"date":"2026-02-10 11:05:00","summ":1049.75,"number":"7001-CRM","customer":{"id":55,"inn":"","kpp":"","reg":"","name":"Пётр Иванов ","okpo":"","fullname":"Пётр Иванов ","legalentity":false},"products":[{"id":901,"type":"NORMAL","price":12.35,"taxrate":"5%","itemType":1,"prodname":"Чай улун, развес","quantity":85,"unitname":"Грамм"}],"prepayment":0,"prepaymentEnable":true}';

type Json = Record<string, unknown>;

function product(overrides: Json = {}): Json {
  return {
    id: 1,
    type: 'NORMAL',
    price: 100,
    taxrate: '20%',
    itemType: 1,
    prodname: 'Крем',
    quantity: 1,
    unitname: 'Штука',
    ...overrides,
  };
}

function bill(overrides: Json = {}, products: Json[] = [product()]): Json {
  return {
    id: 42,
    date: '2026-01-20 10:00:00',
    summ: 100,
    number: '42-CRM',
    customer: CUSTOMER,
    products,
    prepayment: 0,
    prepaymentEnable: true,
    ...overrides,
  };
}

/** Through JSON text and the lossless parser, as the client delivers it. */
const map = (value: Json, payment: 'card' | 'cash' = 'card') =>
  mapBridgeBill(parseJsonLossless(JSON.stringify(value)), { account: '120', payment });

function fieldOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error.field;
    if (error instanceof KktAgentError) return String(error.details['field']);
    throw error;
  }
  throw new Error('expected an error');
}

describe('mapBridgeBill', () => {
  it('maps the A.10 bill: 85 g of tea at 12.35 with VAT 5 %', () => {
    const result = mapBridgeBill(parseJsonLossless(BILL_7001), { account: '120', payment: 'card' });
    expect(result).toMatchObject({
      source: 'bridge',
      account: '120',
      billId: '7001',
      number: '7001-CRM',
      date: '2026-02-10 11:05:00',
      currency: 'RUB',
      totalMinor: 104975,
      payments: [{ type: 'card', amountMinor: 104975 }],
    });
    expect(result.customer).toBeUndefined();
    expect(result.positions).toEqual([
      {
        name: 'Чай улун, развес',
        priceMinor: 1235,
        quantityMilli: 85000,
        amountMinor: 104975,
        unit: 'gram',
        vat: 'vat5',
        vatMinor: 4999,
        paymentMethod: 'fullPayment',
        paymentObject: 'commodity',
      },
    ]);
  });

  it('keeps in sourceData what the event needs back, the raw customer exactly', () => {
    const result = map(bill({}, [product({ id: 22436 }), product({ id: 22437, price: 0 })]));
    expect(readBridgeSourceData(result.sourceData)).toEqual({
      billId: '42',
      number: '42-CRM',
      date: '2026-01-20 10:00:00',
      prepaymentMinor: 0,
      customer: CUSTOMER,
      products: [
        { id: '22436', type: 'NORMAL', unitname: 'Штука' },
        { id: '22437', type: 'NORMAL', unitname: 'Штука' },
      ],
      paymentFrom: 'default',
    });
  });

  it('reads every listed tax rate', () => {
    const rates = {
      'Без НДС': 'none',
      '0%': 'vat0',
      '5%': 'vat5',
      '7%': 'vat7',
      '10%': 'vat10',
      '20%': 'vat20',
      '22%': 'vat22',
    };
    for (const [taxrate, vat] of Object.entries(rates)) {
      expect(map(bill({}, [product({ taxrate })])).positions[0]!.vat).toBe(vat);
    }
  });

  it('accepts fractional quantities up to 3 decimals (0.25 kg) and decimal strings from PHP bridges', () => {
    const result = map(
      bill({ summ: '696.64' }, [
        product({ price: 1890, quantity: 0.25, unitname: 'Килограмм' }),
        product({ id: 2, price: '640.40', quantity: '0.350', unitname: 'Килограмм', taxrate: '10%' }),
      ]),
    );
    expect(result.positions.map((p) => [p.unit, p.priceMinor, p.quantityMilli, p.amountMinor])).toEqual([
      ['kilogram', 189000, 250, 47250],
      ['kilogram', 64040, 350, 22414],
    ]);
  });

  it('refuses decimal strings JSON would not write ("00", "007.50") with a typed error, not a parser crash', () => {
    // Found by the BILL corpus's random damage (seed -1855474503): "00" reached the number parser and threw.
    expect(fieldOf(() => map(bill({ summ: '00' })))).toBe('summ');
    expect(fieldOf(() => map(bill({}, [product({ price: '007.50' })])))).toBe('products[0].price');
  });

  it('uses the payment it is given for the whole total', () => {
    expect(map(bill(), 'cash').payments).toEqual([{ type: 'cash', amountMinor: 10000 }]);
  });

  it("lets the bill's own paymentSource win over the account default, and a person's command win over both", () => {
    const paymentOf = (
      value: Json,
      options: { payment: 'card' | 'cash'; commandPayment?: 'card' | 'cash' },
    ) => {
      const result = mapBridgeBill(parseJsonLossless(JSON.stringify(value)), { account: '120', ...options });
      return [result.payments[0]!.type, readBridgeSourceData(result.sourceData).paymentFrom];
    };
    expect(paymentOf(bill({ paymentSource: 'PAY_CASH' }), { payment: 'card' })).toEqual(['cash', 'bill']);
    expect(paymentOf(bill({ paymentSource: 'pay_card ' }), { payment: 'cash' })).toEqual(['card', 'bill']);
    expect(paymentOf(bill({ paymentSource: null }), { payment: 'cash' })).toEqual(['cash', 'default']);
    expect(paymentOf(bill({ paymentSource: '' }), { payment: 'card' })).toEqual(['card', 'default']);
    expect(paymentOf(bill(), { payment: 'card' })).toEqual(['card', 'default']);
    expect(
      paymentOf(bill({ paymentSource: 'PAY_CASH' }), { payment: 'card', commandPayment: 'card' }),
    ).toEqual(['card', 'command']);
  });

  it('keeps typography in the names (the register prints its own form of them) and refuses control characters', () => {
    const name = 'Чай «Эрл Грей» — “Twinings” 100\u00a0г…';
    expect(map(bill({}, [product({ prodname: name })])).positions[0]!.name).toBe(name);
  });

  it('sells type SERVICE as a service, NORMAL as a commodity', () => {
    const result = map(bill({ summ: 200 }, [product(), product({ id: 2, type: 'SERVICE' })]));
    expect(result.positions.map((p) => p.paymentObject)).toEqual(['commodity', 'service']);
    const byItemType = map(bill({}, [product({ type: undefined, itemType: 'SERVICE' })]));
    expect(byItemType.positions[0]!.paymentObject).toBe('service');
  });

  it('refuses a marked product type (Evotor SHOES_MARKED…) saying the bill carries no code for it', () => {
    expect(() => map(bill({}, [product({ type: 'SHOES_MARKED' })]))).toThrow(
      /"SHOES_MARKED" is marked goods \(Честный ЗНАК\).*carries no marking code/,
    );
    expect(fieldOf(() => map(bill({}, [product({ type: 'PERFUME_MARKED' })])))).toBe('products[0].type');
  });

  it('prints an unknown countable unit as pieces, keeping the name for the event', () => {
    const result = map(bill({}, [product({ unitname: 'Флакон' })]));
    expect(result.positions[0]!.unit).toBe('piece');
    expect(readBridgeSourceData(result.sourceData).products[0]!.unitname).toBe('Флакон');
  });

  it('puts buyer details on the receipt only for a legal entity or an INN', () => {
    const legal = { ...CUSTOMER, inn: '7712345678', fullname: 'ООО "Ромашка" ', legalentity: true };
    expect(map(bill({ customer: legal })).customer).toEqual({ name: 'ООО "Ромашка"', inn: '7712345678' });
    expect(map(bill()).customer).toBeUndefined();
  });

  it('cuts a name longer than 128 characters for the receipt and keeps the full one for the event', () => {
    const long = 'Я'.repeat(140);
    const result = map(bill({}, [product({ prodname: long })]));
    expect(result.positions[0]!.name).toBe('Я'.repeat(128));
    expect(readBridgeSourceData(result.sourceData).products[0]!.prodname).toBe(long);
  });
});

describe('mapBridgeBill refuses a malformed bill, naming the field', () => {
  it.each([
    [
      'a non-numeric price',
      bill({}, [product(), product({ id: 2 }), product({ id: 3, price: 'сто' })]),
      'products[2].price',
    ],
    ['a missing price', bill({}, [product({ price: undefined })]), 'products[0].price'],
    ['a price with 3 decimals', bill({}, [product({ price: 10.005 })]), 'products[0].price'],
    ['a negative price', bill({}, [product({ price: -1 })]), 'products[0].price'],
    ['a quantity that is not a number', bill({}, [product({ quantity: true })]), 'products[0].quantity'],
    ['a zero quantity', bill({}, [product({ quantity: 0 })]), 'products[0].quantity'],
    ['a quantity with 4 decimals', bill({}, [product({ quantity: 0.0005 })]), 'products[0].quantity'],
    ['an unknown tax rate', bill({}, [product({ taxrate: '18%' })]), 'products[0].taxrate'],
    ['a missing tax rate', bill({}, [product({ taxrate: undefined })]), 'products[0].taxrate'],
    ['an empty product name', bill({}, [product({ prodname: '  ' })]), 'products[0].prodname'],
    [
      'an escape in a product name',
      bill({}, [product({ prodname: 'Крем\u001b[1m' })]),
      'products[0].prodname',
    ],
    [
      'a line feed in the second product name',
      bill({ summ: 200 }, [product(), product({ id: 2, prodname: 'Крем\nдля рук' })]),
      'products[1].prodname',
    ],
    [
      'a NUL in a legal buyer’s name',
      bill({ customer: { ...CUSTOMER, inn: '7712345678', fullname: 'ООО\u0000', legalentity: true } }),
      'customer.fullname',
    ],
    ['an unknown payment source', bill({ paymentSource: 'PAY_BITCOIN' }), 'paymentSource'],
    ['a payment source that is a number', bill({ paymentSource: 2 }), 'paymentSource'],
    ['a marked product type', bill({}, [product({ type: 'TOBACCO_MARKED' })]), 'products[0].type'],
    ['no products', bill({}, []), 'products'],
    ['no customer', bill({ customer: undefined }), 'customer'],
    [
      'a customer without fullname',
      bill({ customer: { ...CUSTOMER, fullname: undefined } }),
      'customer.fullname',
    ],
    ['a fractional bill id', bill({ id: 4.5 }), 'id'],
    ['a missing date', bill({ date: undefined }), 'date'],
    ['a non-numeric summ', bill({ summ: 'много' }), 'summ'],
    ['a prepayment', bill({ prepayment: 50 }), 'prepayment'],
    [
      'an INN that is not digits',
      bill({ customer: { ...CUSTOMER, inn: 'ИНН 77', legalentity: true } }),
      'customer.inn',
    ],
  ])('%s', (_what, value, field) => {
    expect(fieldOf(() => map(value))).toBe(field);
  });

  it('a prepayment under each policy (docs/bridge.md, "prepayment")', () => {
    const prepaid = bill({ summ: 100, prepayment: 30 });
    const offset = (value: Json, payment: 'card' | 'cash' = 'card') =>
      mapBridgeBill(parseJsonLossless(JSON.stringify(value)), {
        account: '120',
        payment,
        prepayment: 'offsetElsewhere',
      });
    // refuse (the default, and said outright): the field is named, nothing is built.
    expect(fieldOf(() => map(prepaid))).toBe('prepayment');
    expect(
      fieldOf(() =>
        mapBridgeBill(parseJsonLossless(JSON.stringify(prepaid)), {
          account: '120',
          payment: 'card',
          prepayment: 'refuse',
        }),
      ),
    ).toBe('prepayment');
    // offsetElsewhere: a final settlement (1214 = 4) paid first by the advance, the rest as the bill says.
    const mapped = offset(prepaid, 'cash');
    expect(mapped.payments).toEqual([
      { type: 'prepaid', amountMinor: 3000 },
      { type: 'cash', amountMinor: 7000 },
    ]);
    expect(mapped).toMatchObject({ prepaidElsewhere: true, totalMinor: 10_000 });
    expect(mapped.positions[0]?.paymentMethod).toBe('fullPayment');
    expect(mapped.order).toBeUndefined();
    expect(offset(bill({ summ: 100, prepayment: 100 })).payments).toEqual([
      { type: 'prepaid', amountMinor: 10_000 },
    ]);
    expect(fieldOf(() => offset(bill({ summ: 100, prepayment: 100.01 })))).toBe('prepayment');
    // A zero prepayment is a plain sale under either policy.
    const plain = offset(bill());
    expect(plain.payments).toEqual([{ type: 'card', amountMinor: 10_000 }]);
    expect(plain.prepaidElsewhere).toBeUndefined();
  });

  it('a summ that is not Σ price × quantity: BILL_TOTAL_MISMATCH on summ', () => {
    const error = (() => {
      try {
        map(bill({ summ: 100.01 }));
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(BillTotalMismatchError);
    expect(error).toMatchObject({
      code: 'BILL_TOTAL_MISMATCH',
      field: 'summ',
      expectedMinor: 10001,
      actualMinor: 10000,
    });
  });

  it('another bill than the one asked for', () => {
    expect(() =>
      mapBridgeBill(parseJsonLossless(JSON.stringify(bill())), {
        account: '120',
        payment: 'card',
        expectedId: '43',
      }),
    ).toThrow(/id: asked for bill 43, the bridge returned bill 42/);
  });

  it('a body that is not an object at all', () => {
    expect(fieldOf(() => mapBridgeBill(parseJsonLossless('[]'), { account: '120', payment: 'card' }))).toBe(
      '',
    );
  });
});
