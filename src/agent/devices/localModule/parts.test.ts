import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { printingJob } from '../../../../test/support/bills.js';
import { GS } from '../../../lib/markingCode.js';
import { buildBill, buildPosition } from '../../domain/bill.js';
import type { Job } from '../../jobs/job.js';
import { localModuleSchema } from './config.js';
import { localModuleParts } from './parts.js';

/**
 * What an atol-web device gets of its `localModule` config. No module answers here: the credentials file
 * does not exist, so nothing is sent and each part's condition comes from that typed failure.
 */

const config = (enabled: boolean) =>
  localModuleSchema.parse({ enabled, credentialsFile: '/nonexistent/kkt-agent/lm.json' });
const logger = pino({ level: 'silent' });

describe('localModuleParts', () => {
  it('a module not enabled for sales still gets the doctor, and no permits', async () => {
    const parts = localModuleParts('kkt', config(false), logger);
    expect(parts.localModule).toBeUndefined();
    const report = await parts.localModuleDoctor.probe();
    expect(report).toMatchObject({ url: 'http://127.0.0.1:5995', apiVersion: 1, enabled: false });
    expect(report.lines[1]).toMatchObject({ check: 'credentials', verdict: 'failed' });
    expect(parts.localModuleDoctor.condition?.state).toBe('credentialsUnusable');
  });

  it("an enabled module's sales and doctor keep one condition", async () => {
    const parts = localModuleParts('kkt', config(true), logger);
    expect(parts.localModuleDoctor.condition).toBeUndefined();
    // A marked sale asks the module first: its failure is what the doctor's part now shows.
    await expect(parts.localModule!.fill(markedSale())).rejects.toMatchObject({
      code: 'MARKING_LM_CREDENTIALS',
    });
    const seen = parts.localModuleDoctor.condition;
    expect(seen).toMatchObject({ state: 'credentialsUnusable', url: 'http://127.0.0.1:5995' });
    expect(seen?.reason).toMatch(/\/nonexistent\/kkt-agent\/lm\.json cannot be used: it does not exist/);
  });
});

function markedSale(): Job {
  const bill = buildBill({
    source: 'mqtt',
    account: 'shop',
    billId: 'b1',
    number: '1',
    currency: 'RUB',
    positions: [
      buildPosition({
        name: 'Кроссовки',
        priceMinor: 500_000,
        quantityMilli: 1000,
        vat: 'none',
        marking: { code: `010463003022541621Yu7t_HclAYqqD${GS}91006A${GS}92abcd` },
      }),
    ],
    payments: 'cash',
  });
  return printingJob(bill);
}
