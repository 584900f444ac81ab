import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startMockMoysklad } from './mockServer.js';
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
    [true, '89992223311'],
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
        for (const contact of ['89992223311', '1@m.com', longMail]) expect(all).not.toContain(contact);
      } finally {
        await mock.close();
        await dir.remove();
      }
    },
  );
});
