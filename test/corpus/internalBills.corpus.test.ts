import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateBill } from '../../src/agent/domain/bill.js';
import { KktAgentError } from '../../src/lib/errors.js';
import { sampleBill } from '../support/bills.js';
import {
  type CorpusAgent,
  type Expected,
  openCorpusAgent,
  typedError,
  typedRejection,
  until,
} from './support.js';

/**
 * The internal Bill (as pushed inline by `fiscalize` over MQTT or the control socket) broken one way at a
 * time. The control method must refuse it with a typed error naming the field (`bill.…`) before anything
 * is journaled: no job, no journal line, nothing printed.
 */

type Json = Record<string, unknown>;
const good = (): Json => JSON.parse(JSON.stringify(sampleBill('corp-1', { positions: 3 }))) as Json;
const positions = (bill: Json) => bill['positions'] as Json[];
const withPosition = (patch: Json) => (bill: Json) => ({
  ...bill,
  positions: [{ ...positions(bill)[0], ...patch }, ...positions(bill).slice(1)],
});
const invalid = (field: string | RegExp): Expected => ({ code: 'VALIDATION_FAILED', field });

const CASES: Array<{ name: string; bill: (bill: Json) => unknown; expected: Expected }> = [
  { name: 'a string', bill: () => 'bill', expected: invalid('bill') },
  { name: 'a number', bill: () => 1, expected: invalid('bill') },
  { name: 'an array', bill: (b) => [b], expected: invalid('bill') },
  { name: 'null', bill: () => null, expected: invalid('bill') },
  { name: 'empty object', bill: () => ({}), expected: invalid(/^bill\./) },
  ...['source', 'account', 'billId', 'number', 'currency', 'positions', 'payments', 'totalMinor'].map(
    (key) => ({
      name: `${key} missing`,
      bill: (b: Json) => ({ ...b, [key]: undefined }),
      expected: invalid(`bill.${key}`),
    }),
  ),
  { name: 'an unknown field', bill: (b) => ({ ...b, discount: 5 }), expected: invalid('bill.discount') },
  { name: 'source blank', bill: (b) => ({ ...b, source: '  ' }), expected: invalid('bill.source') },
  {
    name: 'source longer than 32',
    bill: (b) => ({ ...b, source: 's'.repeat(33) }),
    expected: invalid('bill.source'),
  },
  {
    name: 'billId longer than 128',
    bill: (b) => ({ ...b, billId: 'b'.repeat(129) }),
    expected: invalid('bill.billId'),
  },
  { name: 'number a number', bill: (b) => ({ ...b, number: 17 }), expected: invalid('bill.number') },
  { name: 'currency USD', bill: (b) => ({ ...b, currency: 'USD' }), expected: invalid('bill.currency') },
  {
    name: 'currency lower case',
    bill: (b) => ({ ...b, currency: 'rub' }),
    expected: invalid('bill.currency'),
  },
  { name: 'no positions', bill: (b) => ({ ...b, positions: [] }), expected: invalid('bill.positions') },
  {
    name: '1001 positions',
    bill: (b) => ({ ...b, positions: Array.from({ length: 1001 }, () => positions(b)[0]) }),
    expected: invalid('bill.positions'),
  },
  {
    name: 'a position is null',
    bill: (b) => ({ ...b, positions: [null] }),
    expected: invalid('bill.positions[0]'),
  },
  ...(
    [
      ['name empty', { name: '' }, 'name'],
      ['name longer than 128 (tag 1030)', { name: 'н'.repeat(129) }, 'name'],
      ['priceMinor a fraction', { priceMinor: 100.5 }, 'priceMinor'],
      ['priceMinor negative', { priceMinor: -1 }, 'priceMinor'],
      ['priceMinor text', { priceMinor: '100' }, 'priceMinor'],
      ['priceMinor beyond the limit', { priceMinor: 1e16 }, 'priceMinor'],
      ['quantityMilli zero', { quantityMilli: 0 }, 'quantityMilli'],
      ['quantityMilli a fraction', { quantityMilli: 0.5 }, 'quantityMilli'],
      ['amountMinor off by one', { amountMinor: 1 }, 'amountMinor'],
      ['vatMinor off', { vatMinor: 1 }, 'vatMinor'],
      ['unit unknown', { unit: 'parsec' }, 'unit'],
      ['vat 18 %', { vat: 'vat18' }, 'vat'],
      ['paymentMethod unknown', { paymentMethod: 'later' }, 'paymentMethod'],
      ['paymentObject unknown', { paymentObject: 'magic' }, 'paymentObject'],
      ['code blank', { code: ' ' }, 'code'],
      ['an unknown position field', { colour: 'red' }, 'colour'],
    ] as const
  ).map(([name, patch, field]) => ({
    name: `position: ${name}`,
    bill: withPosition(patch),
    expected: invalid(`bill.positions[0].${field}`),
  })),
  {
    name: 'totalMinor off by one',
    bill: (b) => ({ ...b, totalMinor: (b['totalMinor'] as number) + 1 }),
    expected: invalid(/^bill\.(totalMinor|payments)/),
  },
  {
    name: 'totalMinor negative',
    bill: (b) => ({ ...b, totalMinor: -5 }),
    expected: invalid('bill.totalMinor'),
  },
  { name: 'no payments', bill: (b) => ({ ...b, payments: [] }), expected: invalid('bill.payments') },
  {
    name: 'payments short of the total',
    bill: (b) => ({ ...b, payments: [{ type: 'card', amountMinor: 1 }] }),
    expected: invalid('bill.payments'),
  },
  {
    name: 'payment type bitcoin',
    bill: (b) => ({ ...b, payments: [{ type: 'bitcoin', amountMinor: b['totalMinor'] }] }),
    expected: invalid('bill.payments[0].type'),
  },
  {
    name: 'eleven payments',
    bill: (b) => ({ ...b, payments: Array.from({ length: 11 }, () => ({ type: 'card', amountMinor: 1 })) }),
    expected: invalid('bill.payments'),
  },
  {
    name: 'customer INN of letters',
    bill: (b) => ({ ...b, customer: { inn: 'ИНН' } }),
    expected: invalid('bill.customer.inn'),
  },
  {
    name: 'customer contact longer than 64 (tag 1008)',
    bill: (b) => ({ ...b, customer: { emailOrPhone: `${'a'.repeat(60)}@example.com` } }),
    expected: invalid('bill.customer.emailOrPhone'),
  },
  {
    name: 'cashier without a name',
    bill: (b) => ({ ...b, cashier: { name: '' } }),
    expected: invalid('bill.cashier.name'),
  },
  {
    name: 'taxationSystem unknown',
    bill: (b) => ({ ...b, taxationSystem: 'flat' }),
    expected: invalid('bill.taxationSystem'),
  },
  {
    name: 'position name with an escape sequence',
    bill: withPosition({ name: 'Товар\u001b[2J' }),
    expected: invalid('bill.positions[0].name'),
  },
  {
    name: 'position name with a line feed',
    bill: withPosition({ name: 'Товар\nвторая строка' }),
    expected: invalid('bill.positions[0].name'),
  },
  {
    name: 'position code with a NUL',
    bill: withPosition({ code: '12\u00003' }),
    expected: invalid('bill.positions[0].code'),
  },
  {
    name: 'cashier name with a C1 control',
    bill: (b) => ({ ...b, cashier: { name: 'Иванова\u009b' } }),
    expected: invalid('bill.cashier.name'),
  },
  {
    name: 'customer name with a DEL',
    bill: (b) => ({ ...b, customer: { name: 'ООО\u007f', inn: '7712345678' } }),
    expected: invalid('bill.customer.name'),
  },
];

describe('internal Bill corpus: `fiscalize` with an inline bill refuses, journals nothing, prints nothing', () => {
  let corpus: CorpusAgent;

  beforeAll(async () => {
    corpus = await openCorpusAgent();
  });

  afterAll(async () => {
    await corpus.close();
  });

  it.each(CASES)('$name', async (item) => {
    const before = corpus.footprint();
    await typedRejection(() => corpus.call('fiscalize', { bill: item.bill(good()) }), item.expected);
    expect(corpus.footprint()).toEqual(before);
  });

  it.each([
    ['both a number and a bill', { number: '12', bill: good() }],
    ['neither a number, an id nor a bill', {}],
    ['a payment that is neither card nor cash', { bill: good(), payment: 'crypto' }],
    ['a number longer than 64', { number: '1'.repeat(65) }],
  ])('params: %s', async (_name, params) => {
    const before = corpus.footprint();
    await typedRejection(() => corpus.call('fiscalize', params), { code: 'VALIDATION_FAILED' });
    expect(corpus.footprint()).toEqual(before);
  });

  it('random damage to a valid bill: the validator gives the bill back or a typed error, never anything else', () => {
    const keys = [
      'source',
      'billId',
      'currency',
      'positions',
      'payments',
      'totalMinor',
      'customer',
      'sourceData',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), (key, value) => {
        try {
          validateBill({ ...good(), [key]: value });
        } catch (error) {
          expect(error).toBeInstanceOf(KktAgentError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the agent still works: a good bill is journaled, printed and reported once', async () => {
    const result = (await corpus.call('fiscalize', { bill: good() })) as { job: { id: string } };
    await until(() => corpus.agent.jobs.get(result.job.id)?.state === 'REPORTED', 'the good bill reported');
    expect(corpus.device.printed.map((job) => job.id)).toEqual([result.job.id]);
    expect(corpus.sink.delivered).toHaveLength(1);
    typedError(() => validateBill({ ...good(), totalMinor: 0 }), { code: 'BILL_TOTAL_MISMATCH' });
  });
});
