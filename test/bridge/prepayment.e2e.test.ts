import { describe, expect, it } from 'vitest';
import { decodeVln, findTlv } from '../../src/drivers/atol/protocol/tlv.js';
import type { MockBillJson } from '../../src/emulators/bridge/index.js';
import { receiptsOf, useAgentBox } from '../support/agentBox.js';
import { until } from '../support/agentProcess.js';
import { shopConfig } from '../support/shopConfig.js';

/**
 * A bill with a non-zero `prepayment` under each policy (docs/bridge.md, "prepayment"), through a real
 * `kkt-agent run`: `refuse` (the default) fails the job naming the field and prints nothing;
 * `offsetElsewhere` prints a final settlement paying the prepayment as «prepaid» (1215) and the rest as
 * the bill says, and reports the prepayment back in the event.
 */

/** The seed's tea bill (A.10) with 300.00 of it paid in advance. */
const PREPAID_BILL: MockBillJson = {
  id: 7001,
  date: '2026-03-22 12:10:00',
  summ: 1049.75,
  number: '7001-CRM',
  customer: {
    id: 55,
    inn: '',
    kpp: '',
    reg: '',
    name: 'Пётр Иванов ',
    okpo: '',
    fullname: 'Пётр Иванов ',
    legalentity: false,
  },
  products: [
    {
      id: 901,
      type: 'NORMAL',
      price: 12.35,
      taxrate: '5%',
      itemType: 1,
      prodname: 'Чай улун, развес',
      quantity: 85,
      unitname: 'Грамм',
    },
  ],
  prepayment: 300,
  prepaymentEnable: true,
  paymentSource: 'PAY_CASH',
};

const box = useAgentBox('kkt-bridge-prepayment-');

interface ShownJob {
  job: { state: string; failure?: { code: string; field?: string } };
}

/** The register, the bridge holding the bill, and the daemon with account 120 under `policy`. */
async function shop(policy?: 'refuse' | 'offsetElsewhere') {
  const register = await box.startRegister({ asyncLatencyMs: 2 });
  const receipts = receiptsOf(register);
  const bridge = await box.startBridge({ bills: [PREPAID_BILL] });
  const config = shopConfig({ registerPort: register.port, bridgeUrl: bridge.url });
  const [account] = (config.connectors as { bridge: Array<Record<string, unknown>> }).bridge;
  if (policy) account!.prepayment = policy;
  await box.startAgent(config);
  const job = () =>
    until(async () => {
      const { jobs } = (await box.agent.call('jobs.list', { limit: 10 })) as {
        jobs: Array<{ id: string; key: string; state: string }>;
      };
      const row = jobs.find((j) => j.key === 'bridge/120/7001');
      if (row?.state !== 'FAILED' && row?.state !== 'REPORTED') return undefined;
      return (await box.agent.call('jobs.show', { id: row.id })) as ShownJob;
    }, 'the bill settled');
  return { register, receipts, bridge, job };
}

describe('a bridge bill with a prepayment', () => {
  it('policy refuse (the default): the job fails on the field prepayment; nothing prints, nothing is reported', async () => {
    const { receipts, bridge, job } = await shop();
    expect((await job()).job).toMatchObject({ state: 'FAILED', failure: { field: 'prepayment' } });
    expect(bridge.receipts).toEqual([]);
    expect(receipts).toEqual([]);
  });

  it('policy offsetElsewhere: a final settlement, 300.00 prepaid (1215) and 749.75 cash; the event echoes it', async () => {
    const { register, receipts, bridge, job } = await shop('offsetElsewhere');
    expect((await job()).job.state).toBe('REPORTED');
    expect(receipts).toHaveLength(1);
    const [receipt] = receipts;
    expect(receipt).toMatchObject({ receiptType: 1, totalKop: 104_975 });
    expect(receipt?.items?.[0]).toMatchObject({ paymentMethod: 4 });
    expect(receipt?.payments).toEqual([
      { paymentType: 3, sumKop: 30_000 },
      { paymentType: 1, sumKop: 74_975 },
    ]);
    const fd = register.device.document(receipt!.documentNumber)!;
    expect(decodeVln(findTlv(fd.tlvs, 1215)!)).toBe(30_000);
    const [event] = bridge.receipts.map(
      (r) =>
        r.body as { data: { extras: { prepayment: number }; paymentSource: string; totalAmount: number } },
    );
    expect(event?.data.extras.prepayment).toBe(300);
    expect(event?.data.totalAmount).toBe(1049.75);
    expect(event?.data.paymentSource).toBe('PAY_CASH');
  });
});
