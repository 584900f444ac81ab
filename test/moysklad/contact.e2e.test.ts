import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseJsonLossless } from '../../src/lib/json.js';
import { startMockMoysklad } from './mockServer.js';
import { SEED_COUNTERPARTY_CREATED, SEED_COUNTERPARTY_LIST } from './seed003.js';
import { openHarness, pairedFile, tempDir, testAccount, until } from './support.js';

/**
 * The buyer's contact from MoySklad's master queue (docs/moysklad.md, "The buyer's contact"): a minion's
 * retail demand carries `cheque.phone` and `cheque.email`, where the electronic receipt goes (seed 003,
 * POST /cheque/minion/entity/retaildemand). It reaches the receipt as tag 1008 and never the logs.
 */

/** The `cheque` of the seed's minion retail demand, verbatim. */
const SEED_CHEQUE = {
  fiscal: true,
  online: true,
  printed: true,
  phone: '89992223311',
  email: '1@m.com',
  number: '4165132132',
  sum: 123.6,
  fnNumber: '1223334444',
  fiscalDocSign: '111222333',
  fiscalDocNumber: '1234567',
  time: '2016-09-06 21:41:46',
};

function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: pino({ level: 'trace' }, stream) };
}

describe("MoySklad buyer's contact, end to end with a real Agent", () => {
  it.each([
    [true, '+79992223311'],
    [false, '1@m.com'],
  ])(
    'isPhonePriority %s: the receipt goes to %s; no contact in any log line',
    async (isPhonePriority, expected) => {
      const mock = await startMockMoysklad({ stores: [{ isPhonePriority }] });
      const dir = await tempDir();
      const log = capturingLogger();
      try {
        mock.enqueueOperation({
          name: '00051',
          positions: [{ name: 'Кофе', priceKop: 15_000 }],
          cheque: SEED_CHEQUE,
        });
        // An operation whose contact cannot be tag 1008 is rejected, naming the field and not the value.
        const longMail = `${'k'.repeat(70)}@m.com`;
        const refused = mock.enqueueOperation({
          name: '00052',
          positions: [{ name: 'Чай', priceKop: 9_000 }],
          cheque: { email: longMail },
        });
        const credentials = await pairedFile(mock, dir.path);
        const harness = await openHarness(
          `${dir.path}/data`,
          testAccount(mock, credentials, { mode: 'master' }),
          undefined,
          log.logger,
        );
        try {
          await until(
            () => mock.approvals.length === 1 && mock.rejections.length === 1,
            'approve and reject',
          );
          expect(harness.device.printed.map((job) => job.bill?.customer)).toEqual([
            { emailOrPhone: expected },
          ]);
          const rejection = mock.rejections.find((r) => r.syncId === refused)!;
          expect(rejection.body.fiscalErrMsg).toMatch(/operation\.cheque\.email/);
          expect(JSON.stringify(rejection.body)).not.toContain(longMail);
        } finally {
          await harness.stop();
        }
        expect(log.lines.length).toBeGreaterThan(10);
        const all = log.lines.join('');
        for (const contact of ['9992223311', '1@m.com', longMail]) expect(all).not.toContain(contact);
      } finally {
        await mock.close();
        await dir.remove();
      }
    },
  );
});

/** A counterparty of the seed's examples, as plain JSON the mock can list. */
function seedCounterparty(name: string): Record<string, unknown> {
  if (name === 'Иван Иванович') {
    const { meta: _meta, ...fields } = JSON.parse(SEED_COUNTERPARTY_CREATED) as Record<string, unknown>;
    return fields;
  }
  const rows = (parseJsonLossless(SEED_COUNTERPARTY_LIST) as { rows: Array<Record<string, unknown>> }).rows;
  const { meta: _meta, discounts: _discounts, ...fields } = rows.find((row) => row.name === name)!;
  return JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
}

describe('a customer order\'s buyer contact (docs/moysklad.md, "The buyer\'s contact")', () => {
  it("goes from the order's counterparty to tag 1008; a bad one refuses that order only; MoySklad down defers it; no counterparty, no contact", async () => {
    const mock = await startMockMoysklad({ stores: [{ fiscalType: 'STANDARD' }] });
    const dir = await tempDir();
    const log = capturingLogger();
    try {
      const ivan = mock.addCounterparty(seedCounterparty('Иван Иванович'));
      const bank = mock.addCounterparty(seedCounterparty('АО компания-банк'));
      // Same name as Ivan, another counterparty: the buyer is picked by id, never by name.
      mock.addCounterparty({ name: 'Иван Иванович', phone: '+7 900 000 00 00' });
      const strangerId = '00000000-0000-4000-8000-000000000001';
      const stranger = {
        meta: {
          ...(ivan.meta as object),
          href: `${mock.url}/entity/counterparty/${strangerId}`,
          id: strangerId,
        },
        name: 'Иван Иванович',
      };
      const order = (name: string, agent: Record<string, unknown> | undefined, good: string) =>
        mock.addOrder({
          name,
          moment: `2026-11-22 09:${name.slice(-2)}:00`,
          ...(agent ? { agent } : {}),
          positions: [{ name: good, priceKop: 9_000 }],
        });
      const withIvan = order('00061', ivan, 'Кофе');
      const withBank = order('00062', bank, 'Чай');
      const withStranger = order('00063', stranger, 'Сахар');
      const retail = order('00064', undefined, 'Соль');
      // The first search fails through every retry: Ivan's order waits; the others go on.
      mock.inject({ kind: 'status500', method: 'GET', path: /^\/entity\/counterparty$/, times: 3 });
      const credentials = await pairedFile(mock, dir.path);
      const harness = await openHarness(
        `${dir.path}/data`,
        testAccount(mock, credentials, {
          mode: 'customerOrders',
          billRetry: { firstDelayMs: 300, maxDelayMs: 300 },
        }),
        undefined,
        log.logger,
      );
      try {
        const { agent, device } = harness;
        const key = (order: Record<string, unknown>) => ({
          source: 'moysklad',
          account: 'shop',
          billId: `customerorder:${order.id}`,
        });
        await until(() => device.printed.length === 3, 'three orders printed');
        const printed = Object.fromEntries(
          device.printed.map((job) => [job.bill?.number, job.bill?.customer]),
        );
        expect(printed).toEqual({
          '00063': undefined,
          '00064': undefined,
          '00061': { emailOrPhone: '+79258762323' },
        });
        // Ivan's order was printed last: deferred while the search failed, not printed without its contact.
        expect(device.printed.at(-1)?.bill?.number).toBe('00061');
        const refused = agent.jobs.findByBill(key(withBank));
        expect(refused?.state).toBe('FAILED');
        expect(refused?.failure).toMatchObject({
          code: 'MOYSKLAD_BILL_UNSUPPORTED',
          field: 'counterparty.phone',
        });
        expect(refused?.failure?.message).not.toMatch(/666/);
        expect(agent.jobs.findByBill(key(withStranger))?.state).not.toBe('FAILED');
        expect(agent.jobs.findByBill(key(withIvan))?.state).not.toBe('FAILED');
        expect(agent.jobs.findByBill(key(retail))?.state).not.toBe('FAILED');
        // The retail buyer's order asked nothing; each of the three others was searched by its name.
        expect(new Set(mock.counterpartySearches)).toEqual(new Set(['Иван Иванович', 'АО компания-банк']));
      } finally {
        await harness.stop();
      }
      const all = log.lines.join('');
      expect(all).toContain('moysklad.order.contact_unavailable');
      for (const secret of ['8762323', 'email@example.com', 'aoalmost', '666 555', 'Иван Иванович'])
        expect(all).not.toContain(secret);
    } finally {
      await mock.close();
      await dir.remove();
    }
  });

  it('a search MoySklad refuses for good (403) prints the order without a contact and says so, naming no one', async () => {
    const mock = await startMockMoysklad({ stores: [{ fiscalType: 'STANDARD' }] });
    const dir = await tempDir();
    const log = capturingLogger();
    try {
      const ivan = mock.addCounterparty(seedCounterparty('Иван Иванович'));
      mock.addOrder({ name: '00091', agent: ivan, positions: [{ name: 'Кофе', priceKop: 15_000 }] });
      mock.inject({
        kind: 'apiError',
        status: 403,
        code: 1016,
        method: 'GET',
        path: /^\/entity\/counterparty$/,
      });
      const credentials = await pairedFile(mock, dir.path);
      const harness = await openHarness(
        `${dir.path}/data`,
        testAccount(mock, credentials, { mode: 'customerOrders' }),
        undefined,
        log.logger,
      );
      try {
        await until(() => harness.device.printed.length === 1, 'printed');
        expect(harness.device.printed[0]!.bill?.customer).toBeUndefined();
        // Asked once, answered 403, not retried: a refusal is no outage.
        expect(mock.counters.byRoute['GET /entity/counterparty']).toBe(1);
      } finally {
        await harness.stop();
      }
      const warnings = log.lines.filter((line) => line.includes('moysklad.order.contact_unavailable'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, reason: 'MOYSKLAD_API_ERROR' });
      expect(log.lines.join('')).not.toContain('Иван Иванович');
    } finally {
      await mock.close();
      await dir.remove();
    }
  });

  it('a store that sends no e-receipts (ofdEnabled false) asks for no counterparty and prints no contact', async () => {
    const mock = await startMockMoysklad({ stores: [{ fiscalType: 'STANDARD', ofdEnabled: false }] });
    const dir = await tempDir();
    try {
      const ivan = mock.addCounterparty(seedCounterparty('Иван Иванович'));
      mock.addOrder({ name: '00071', agent: ivan, positions: [{ name: 'Кофе', priceKop: 15_000 }] });
      const credentials = await pairedFile(mock, dir.path);
      const harness = await openHarness(
        `${dir.path}/data`,
        testAccount(mock, credentials, { mode: 'customerOrders' }),
      );
      try {
        await until(() => harness.device.printed.length === 1, 'printed');
        expect(harness.device.printed[0]!.bill?.customer).toBeUndefined();
        expect(mock.counterpartySearches).toEqual([]);
      } finally {
        await harness.stop();
      }
    } finally {
      await mock.close();
      await dir.remove();
    }
  });
});
