import { describe, expect, it } from 'vitest';
import { parseJsonLossless } from '../../src/lib/json.js';
import { startMockMoysklad } from '../moysklad/mockServer.js';
import { SEED_COUNTERPARTY_CREATED } from '../moysklad/seed003.js';
import { pairedFile, testAccount } from '../moysklad/support.js';
import { atolOnEmulator, receiptsOf, useAgentBox } from '../support/agentBox.js';
import { until } from '../support/agentProcess.js';

/**
 * A MoySklad customer order's buyer contact, with the real daemon (`dist/`) on the ATOL emulator: the order
 * names its buyer only as `agent{meta, name}`; the connector finds that counterparty in
 * `GET /entity/counterparty?search=` and the register's fiscal document carries its phone as tag 1008
 * (docs/moysklad.md, "The buyer's contact"). An order whose counterparty holds a phone no receipt can go
 * to prints nothing and names the field; the order after it prints.
 */

const box = useAgentBox('kkt-ms-contact-');

describe("MoySklad customer order → tag 1008 in the register's FN, with the real daemon", () => {
  it("prints the counterparty's phone as 1008, refuses an unusable one naming the field, and logs neither", async () => {
    const atol = await box.startRegister();
    const receipts = receiptsOf(atol);
    const mock = box.own(await startMockMoysklad({ stores: [{ fiscalType: 'STANDARD' }] }));
    // The reference's own counterparty example: "+7 925 8762323", "email@example.com".
    const { meta: _meta, ...ivanFields } = parseJsonLossless(SEED_COUNTERPARTY_CREATED) as Record<
      string,
      unknown
    >;
    const ivan = mock.addCounterparty(JSON.parse(JSON.stringify(ivanFields)) as Record<string, unknown>);
    const landline = mock.addCounterparty({ name: 'ООО Ромашка', phone: '+7 666 555 444 333' });
    const refused = mock.addOrder({
      name: '00081',
      moment: '2026-11-22 09:01:00',
      agent: landline,
      positions: [{ name: 'Чай', priceKop: 9_000 }],
    });
    mock.addOrder({
      name: '00082',
      moment: '2026-11-22 09:02:00',
      agent: ivan,
      positions: [{ name: 'Кофе в зёрнах', priceKop: 129_900, vat: 22 }],
    });
    const credentials = await pairedFile(mock, box.dir);
    const agent = await box.startAgent({
      timeZone: 'Europe/Moscow',
      log: { level: 'debug' },
      devices: [atolOnEmulator(atol)],
      connectors: { moysklad: [testAccount(mock, credentials, { mode: 'customerOrders' })] },
    });

    await until(
      () => mock.demands.length === 1,
      'the retail demand of the order with a usable contact',
      30_000,
    );
    expect(receipts).toHaveLength(1);
    const tags = atol.device.document(receipts[0]!.documentNumber)?.tlvs ?? [];
    const contact = tags.find((tlv) => tlv.tag === 1008);
    expect(contact?.value.toString('latin1')).toBe('+79258762323');

    const { jobs } = (await agent.call('jobs.list', { state: 'FAILED' })) as {
      jobs: Array<{ id: string; number: string }>;
    };
    expect(jobs.map((job) => job.number)).toEqual([refused.name]);
    const shown = (await agent.call('jobs.show', { id: jobs[0]!.id })) as {
      job: { state: string; failure?: { code: string; field?: string } };
    };
    expect(shown.job.state).toBe('FAILED');
    expect(shown.job.failure).toMatchObject({
      code: 'MOYSKLAD_BILL_UNSUPPORTED',
      field: 'counterparty.phone',
    });

    const output = agent.output();
    expect(output).toContain('moysklad.order.rejected');
    for (const secret of ['8762323', 'email@example.com', '666 555', '666555'])
      expect(output).not.toContain(secret);
  });
});
