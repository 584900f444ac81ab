import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { BridgeConnector } from '../../src/agent/connectors/bridge/connector.js';
import { mapBridgeBill } from '../../src/agent/connectors/bridge/mapping.js';
import { validateBill } from '../../src/agent/domain/bill.js';
import { type MockBillJson, type MockBridge, startMockBridge } from '../../src/emulators/bridge/index.js';
import { KktAgentError } from '../../src/lib/errors.js';
import { parseJsonLossless } from '../../src/lib/json.js';
import { bridgeBill } from '../support/bridgeBills.js';
import { FakeDevice } from '../support/fakeDevice.js';
import { type Expected, tempDir, typedError } from './support.js';

/**
 * Bridge BILL JSON (docs/protocol/bridge-api-v2.md §3) that must be refused: each case is a valid bill broken
 * in one way. The mapping must throw a typed error naming the field as the bridge spells it; through the
 * connector the bill becomes one FAILED job with that field, and nothing is printed.
 */

type Bill = Record<string, unknown> & {
  customer: Record<string, unknown>;
  products: Array<Record<string, unknown>>;
};

const base = (): Bill => structuredClone(bridgeBill(1001, { positions: 2 })) as Bill;
const invalid = { code: 'VALIDATION_FAILED' } as const;
const on = (field: string | RegExp): Expected => ({ ...invalid, field });

interface BillCase {
  name: string;
  /** Breaks a fresh valid bill; or raw JSON text to parse instead. */
  break: ((bill: Bill) => unknown) | string;
  expected: Expected;
}

const CASES: BillCase[] = [
  { name: 'the body is an array', break: () => [base()], expected: on('') },
  { name: 'the body is null', break: () => null, expected: on('') },
  { name: 'the body is a string', break: () => 'bill', expected: on('') },
  // lossless-json reads a bare number as a LosslessNumber object, so the first field missing is named.
  { name: 'the body is a number', break: () => 42, expected: on(/^(id)?$/) },
  { name: 'the body is an empty object', break: () => ({}), expected: on('id') },
  { name: 'id missing', break: (b) => ({ ...b, id: undefined }), expected: on('id') },
  { name: 'id null', break: (b) => ({ ...b, id: null }), expected: on('id') },
  { name: 'id an object', break: (b) => ({ ...b, id: { value: 1 } }), expected: on('id') },
  { name: 'id a boolean', break: (b) => ({ ...b, id: true }), expected: on('id') },
  { name: 'id longer than 128', break: (b) => ({ ...b, id: 'x'.repeat(129) }), expected: on('id') },
  { name: 'id a fraction', break: (b) => ({ ...b, id: 1.5 }), expected: on('id') },
  { name: 'date missing', break: (b) => ({ ...b, date: undefined }), expected: on('date') },
  { name: 'date empty', break: (b) => ({ ...b, date: '' }), expected: on('date') },
  { name: 'date blank', break: (b) => ({ ...b, date: '   ' }), expected: on('date') },
  { name: 'date a number', break: (b) => ({ ...b, date: 20261121 }), expected: on('date') },
  {
    name: 'date longer than 64',
    break: (b) => ({ ...b, date: `2026-11-21 ${'9'.repeat(60)}` }),
    expected: on('date'),
  },
  { name: 'summ missing', break: (b) => ({ ...b, summ: undefined }), expected: on('summ') },
  { name: 'summ text', break: (b) => ({ ...b, summ: 'сто рублей' }), expected: on('summ') },
  { name: 'summ negative', break: (b) => ({ ...b, summ: -1 }), expected: on('summ') },
  { name: 'summ with three decimals', break: (b) => ({ ...b, summ: 10.001 }), expected: on('summ') },
  { name: 'summ null', break: (b) => ({ ...b, summ: null }), expected: on('summ') },
  { name: 'summ a boolean', break: (b) => ({ ...b, summ: false }), expected: on('summ') },
  { name: 'summ an array', break: (b) => ({ ...b, summ: [1] }), expected: on('summ') },
  { name: 'summ beyond any register', break: (b) => ({ ...b, summ: 1e20 }), expected: on('summ') },
  { name: 'summ exponent text', break: '{"id":1,"date":"2026-11-21","summ":1e400}', expected: on('summ') },
  {
    name: 'summ off by one kopeck',
    break: (b) => ({ ...b, summ: Math.round((b['summ'] as number) * 100 + 1) / 100 }),
    expected: { code: 'BILL_TOTAL_MISMATCH', field: 'summ' },
  },
  {
    name: 'summ off by one rouble',
    break: (b) => ({ ...b, summ: (b['summ'] as number) - 1 }),
    expected: { code: 'BILL_TOTAL_MISMATCH', field: 'summ' },
  },
  { name: 'number missing', break: (b) => ({ ...b, number: undefined }), expected: on('number') },
  { name: 'number an object', break: (b) => ({ ...b, number: {} }), expected: on('number') },
  { name: 'number longer than 64', break: (b) => ({ ...b, number: 'N'.repeat(65) }), expected: on('number') },
  { name: 'customer missing', break: (b) => ({ ...b, customer: undefined }), expected: on('customer') },
  { name: 'customer a string', break: (b) => ({ ...b, customer: 'Иванов' }), expected: on('customer') },
  {
    name: 'customer.legalentity text',
    break: (b) => ({ ...b, customer: { ...b.customer, legalentity: 'нет' } }),
    expected: on('customer.legalentity'),
  },
  {
    name: 'customer.inn a number',
    break: (b) => ({ ...b, customer: { ...b.customer, inn: 7712345678 } }),
    expected: on('customer.inn'),
  },
  {
    name: 'customer.name missing',
    break: (b) => ({ ...b, customer: { ...b.customer, name: undefined } }),
    expected: on('customer.name'),
  },
  { name: 'products missing', break: (b) => ({ ...b, products: undefined }), expected: on('products') },
  { name: 'products empty', break: (b) => ({ ...b, products: [] }), expected: on('products') },
  {
    name: 'products an object',
    break: (b) => ({ ...b, products: { 0: b.products[0] } }),
    expected: on('products'),
  },
  {
    name: 'more than 1000 products',
    break: (b) => ({ ...b, products: Array.from({ length: 1001 }, () => b.products[0]) }),
    expected: on('products'),
  },
  { name: 'a product is null', break: (b) => ({ ...b, products: [null] }), expected: on('products[0]') },
  ...(
    [
      ['price missing', { price: undefined }, 'products[0].price'],
      ['price text', { price: 'двести пятьдесят' }, 'products[0].price'],
      ['price negative', { price: -10 }, 'products[0].price'],
      ['price with three decimals', { price: 1.005 }, 'products[0].price'],
      ['price a boolean', { price: true }, 'products[0].price'],
      ['price null', { price: null }, 'products[0].price'],
      ['price "1,50" with a comma', { price: '1,50' }, 'products[0].price'],
      ['price " " blank', { price: ' ' }, 'products[0].price'],
      ['quantity zero', { quantity: 0 }, 'products[0].quantity'],
      ['quantity negative', { quantity: -1 }, 'products[0].quantity'],
      ['quantity of 0.0001', { quantity: 0.0001 }, 'products[0].quantity'],
      ['quantity text', { quantity: 'много' }, 'products[0].quantity'],
      ['quantity missing', { quantity: undefined }, 'products[0].quantity'],
      ['taxrate 18 %', { taxrate: '18%' }, 'products[0].taxrate'],
      ['taxrate a number', { taxrate: 20 }, 'products[0].taxrate'],
      ['taxrate missing', { taxrate: undefined }, 'products[0].taxrate'],
      ['taxrate empty', { taxrate: '' }, 'products[0].taxrate'],
      ['unitname missing', { unitname: undefined }, 'products[0].unitname'],
      ['unitname a number', { unitname: 796 }, 'products[0].unitname'],
      ['prodname empty', { prodname: '' }, 'products[0].prodname'],
      ['prodname blank', { prodname: '\t \n' }, 'products[0].prodname'],
      ['prodname a number', { prodname: 42 }, 'products[0].prodname'],
      ['type MARKED (needs a marking code)', { type: 'MARKED' }, 'products[0].type'],
      ['type EXCISE', { type: 'EXCISE' }, 'products[0].type'],
      ['product id missing', { id: undefined }, 'products[0].id'],
      ['product id an array', { id: [1] }, 'products[0].id'],
    ] as const
  ).map(([name, patch, field]) => ({
    name: `first product: ${name}`,
    break: (b: Bill) => ({ ...b, products: [{ ...b.products[0], ...patch }, b.products[1]] }),
    expected: on(field),
  })),
  {
    name: 'second product: price text',
    break: (b) => ({ ...b, products: [b.products[0], { ...b.products[1], price: 'abc' }] }),
    expected: on('products[1].price'),
  },
  {
    name: 'second product: taxrate unknown',
    break: (b) => ({ ...b, products: [b.products[0], { ...b.products[1], taxrate: 'НДС 12%' }] }),
    expected: on('products[1].taxrate'),
  },
  {
    name: 'a line beyond any register (price × quantity)',
    break: (b) => ({ ...b, products: [{ ...b.products[0], price: 9_000_000_000_000, quantity: 1000 }] }),
    expected: { code: /VALIDATION_FAILED|BILL_TOTAL_MISMATCH/, field: /^(products\[0\]|summ)/ },
  },
  { name: 'a prepayment', break: (b) => ({ ...b, prepayment: 100 }), expected: on('prepayment') },
  { name: 'prepayment text', break: (b) => ({ ...b, prepayment: 'всё' }), expected: on('prepayment') },
  {
    name: 'prepaymentEnable text',
    break: (b) => ({ ...b, prepaymentEnable: 'yes' }),
    expected: on('prepaymentEnable'),
  },
  ...(
    [
      ['an escape sequence', 'Крем\u001b[31m'],
      ['a NUL', 'Крем\u0000'],
      ['a line feed', 'Крем\nдля рук'],
      ['a carriage return', 'Крем\r'],
      ['a tab', 'Крем\tдля рук'],
      ['a bell', 'Крем\u0007'],
      ['a DEL', 'Крем\u007f'],
      ['a C1 control (NEL)', 'Крем\u0085'],
    ] as const
  ).map(([what, prodname]) => ({
    name: `second product name with ${what}`,
    break: (b: Bill) => ({ ...b, products: [b.products[0], { ...b.products[1], prodname }] }),
    expected: { code: 'TEXT_CONTROL_CHARACTER', field: 'products[1].prodname' },
  })),
  {
    name: "a legal buyer's name with a control character",
    break: (b) => ({
      ...b,
      customer: { ...b.customer, inn: '7712345678', legalentity: true, fullname: 'ООО\u001bРомашка' },
    }),
    expected: { code: 'TEXT_CONTROL_CHARACTER', field: 'customer.fullname' },
  },
  {
    name: 'paymentSource unknown',
    break: (b) => ({ ...b, paymentSource: 'PAY_QR' }),
    expected: on('paymentSource'),
  },
  {
    name: 'paymentSource a number',
    break: (b) => ({ ...b, paymentSource: 1 }),
    expected: on('paymentSource'),
  },
  {
    name: 'paymentSource an object',
    break: (b) => ({ ...b, paymentSource: {} }),
    expected: on('paymentSource'),
  },
];

function rawOf(item: BillCase): unknown {
  if (typeof item.break === 'string') return parseJsonLossless(item.break);
  return parseJsonLossless(JSON.stringify(item.break(base())) ?? 'null');
}

describe('bridge BILL corpus: the mapping refuses each with a typed error naming the field', () => {
  it.each(CASES)('$name', (item) => {
    typedError(() => mapBridgeBill(rawOf(item), { account: '120', payment: 'card' }), item.expected);
  });

  it('the bill of another id than asked for', () => {
    const raw = parseJsonLossless(JSON.stringify(base()));
    typedError(() => mapBridgeBill(raw, { account: '120', payment: 'card', expectedId: '999' }), on('id'));
  });

  it('any random damage to a valid bill gives a valid Bill or a typed error, never anything else', () => {
    const paths: Array<(bill: Bill, value: unknown) => void> = [
      (b, v) => {
        b['summ'] = v;
      },
      (b, v) => {
        b['id'] = v;
      },
      (b, v) => {
        b['date'] = v;
      },
      (b, v) => {
        b['customer'] = v as Record<string, unknown>;
      },
      (b, v) => {
        b.products[0]!['price'] = v;
      },
      (b, v) => {
        b.products[0]!['quantity'] = v;
      },
      (b, v) => {
        b.products[1]!['taxrate'] = v;
      },
      (b, v) => {
        b.products[1]!['prodname'] = v;
      },
      (b, v) => {
        b.products = v as Bill['products'];
      },
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: paths.length - 1 }), fc.jsonValue(), (index, value) => {
        const bill = base();
        paths[index]!(bill, value);
        const text = JSON.stringify(bill);
        try {
          const mapped = mapBridgeBill(parseJsonLossless(text), { account: '120', payment: 'card' });
          validateBill(mapped);
        } catch (error) {
          expect(error).toBeInstanceOf(KktAgentError);
          expect(typeof (error as KktAgentError).code).toBe('string');
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('bridge BILL corpus through the connector: one FAILED job with the field, nothing printed', () => {
  let bridge: MockBridge;
  let agent: Agent;
  let device: FakeDevice;
  let connector: BridgeConnector;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const bad: Array<[string, MockBillJson, string]> = [
    [
      'price text',
      { ...base(), id: 9001, products: [{ ...base().products[0], price: 'x' }] },
      'products[0].price',
    ],
    [
      'taxrate unknown',
      { ...base(), id: 9002, products: [{ ...base().products[0], taxrate: '18%' }] },
      'products[0].taxrate',
    ],
    ['summ off', { ...base(), id: 9003, summ: 0.01 }, 'summ'],
    ['no products', { ...base(), id: 9004, products: [] }, 'products'],
    ['customer missing', { ...base(), id: 9005, customer: undefined }, 'customer'],
  ];

  beforeAll(async () => {
    dir = await tempDir();
    bridge = await startMockBridge({ port: 0, bills: [...bad.map(([, bill]) => bill), bridgeBill(9100)] });
    device = new FakeDevice('kkt');
    connector = new BridgeConnector({ id: '120', baseUrl: bridge.url, timeoutMs: 2000, retries: 0 });
    agent = await Agent.open({
      dataDir: dir.path,
      logger: pino({ level: 'silent' }),
      devices: [device],
      connectors: [connector],
      router: () => device.id,
      outbox: { initialBackoffMs: 10, maxBackoffMs: 50 },
    });
    await agent.start();
    await agent.serving();
  });

  afterAll(async () => {
    await agent.stop();
    await bridge.close();
    await dir.remove();
  });

  it.each(bad)('%s', async (_name, bill, field) => {
    const before = agent.jobs.all().length;
    const { job, duplicate } = await connector.fiscalizeById(String(bill['id']));
    expect(duplicate).toBe(false);
    expect(job.state).toBe('FAILED');
    expect(job.failure?.field).toBe(field);
    expect(job.bill).toBeUndefined();
    expect(agent.jobs.all()).toHaveLength(before + 1);
    expect(device.printed).toHaveLength(0);
    expect(device.attempts).toBe(0);
  });

  it('the agent still prints a good bill afterwards, and only it', async () => {
    const { job } = await connector.fiscalizeById('9100');
    const deadline = Date.now() + 5000;
    while (agent.jobs.get(job.id)?.state !== 'REPORTED' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(agent.jobs.get(job.id)?.state).toBe('REPORTED');
    expect(device.printed.map((j) => j.id)).toEqual([job.id]);
  });
});
