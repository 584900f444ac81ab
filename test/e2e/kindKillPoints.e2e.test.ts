import { beforeEach, describe, expect, it } from 'vitest';
import { type Bill, buildPosition } from '../../src/agent/domain/bill.js';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
} from '../../src/emulators/atol/index.js';
import { receiptsOf, useAgentBox } from '../support/agentBox.js';
import { type AgentProcess, until } from '../support/agentProcess.js';
import { frontBill, tea } from '../support/bills.js';
import { killAfterReceiptStep } from '../support/killPoints.js';
import { atolDevice, SHOP_TZ } from '../support/shopConfig.js';

/**
 * The kill-point matrix for the other receipt kinds (docs/fiscalization.md, "Receipt kinds"): a return, a
 * correction, and an advance with its final receipt. The agent is SIGKILLed right after a protocol step of
 * that receipt and started again; the receipt must exist exactly once on the register, and its job must
 * carry that document's data. The steps are the ones whose outcome differs: before the FD exists (92, the
 * correction's 1174), the FD made but unread (4A), the read-back (A4 46).
 */

// Every daemon a test started is SIGKILLed after it: most were killed mid-receipt already.
const box = useAgentBox('kkt-kind-kill-', { teardown: 'kill' });
let emulator: AtolEmulator;
let receipts: JournalEntry[];

const config = (port: number) => ({
  timeZone: SHOP_TZ,
  devices: [atolDevice(port, { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } })],
  fiscalizer: { retryDelayMs: 100 },
});

const start = (): Promise<AgentProcess> => box.startAgent(config(emulator.port));

beforeEach(async () => {
  emulator = await box.startRegister();
  receipts = receiptsOf(emulator);
});

interface Step {
  step: string;
  code: string;
  tag?: number;
}

const OPEN: Step = { step: 'open receipt (92)', code: '92' };
const CLOSE: Step = { step: 'close (4A): the FD exists, unread', code: '4A' };
const READ_BACK: Step = { step: 'read-back (A4 46)', code: 'A4 46' };
const BASIS: Step = { step: 'correction basis (E8 1174, posted)', code: 'E8', tag: 1174 };

/** Runs `request` on a live agent and SIGKILLs it right after the receipt's `step`. */
async function killDuring(agent: AgentProcess, step: Step, request: () => Promise<unknown>): Promise<void> {
  const killed = killAfterReceiptStep(emulator, agent, step);
  // The answer may or may not arrive before the kill: the job is journaled before either.
  await request().catch(() => undefined);
  await killed;
}

interface ShownJob {
  id: string;
  state: string;
  operation: string;
  fiscal?: { fiscalDocumentNumber: number; fiscalSign: string };
}

/** After the restart: the job of `kind` printed, and exactly one receipt of that type on the register. */
async function verifyOnce(agent: AgentProcess, kind: string, receiptType: number): Promise<ShownJob> {
  const found = await until(async () => {
    const { jobs } = (await agent.call('jobs.list')) as {
      jobs: Array<{ id: string; kind: string; state: string }>;
    };
    return jobs.find((j) => j.kind === kind && (j.state === 'FISCALIZED' || j.state === 'REPORTED'));
  }, `the ${kind} job printed after the restart`);
  const { job } = (await agent.call('jobs.show', { id: found.id })) as { job: ShownJob };
  const ofType = receipts.filter((r) => r.receiptType === receiptType);
  expect(ofType).toHaveLength(1);
  expect(job.fiscal).toMatchObject({
    fiscalDocumentNumber: ofType[0]!.documentNumber,
    fiscalSign: ofType[0]!.fiscalSign,
  });
  return job;
}

const bill = (billId: string, extra: Partial<Bill>, positions = [tea(2000)]): Bill =>
  frontBill(billId, positions, { payments: 'card', ...extra });

async function printedSale(agent: AgentProcess): Promise<string> {
  const { job } = (await agent.call('fiscalize', { bill: bill('sale', {}) })) as { job: { id: string } };
  await until(async () => {
    const shown = (await agent.call('jobs.show', { id: job.id })) as { job: ShownJob };
    return shown.job.state === 'FISCALIZED' || shown.job.state === 'REPORTED';
  }, 'the sale printed');
  return job.id;
}

describe('SIGKILL during a return', () => {
  it.each([OPEN, CLOSE, READ_BACK])('$step', { timeout: 60_000 }, async (step) => {
    const first = await start();
    const saleId = await printedSale(first);
    await killDuring(first, step, () =>
      first.call('refund', { jobId: saleId, positions: [{ index: 0, quantityMilli: 1000 }] }),
    );
    const job = await verifyOnce(await start(), 'sellReturn', 2);
    expect(receipts.find((r) => r.receiptType === 2)?.marker).toBe(job.id);
  });
});

describe('SIGKILL during a correction of a settlement never receipted', () => {
  it.each([OPEN, BASIS, CLOSE, READ_BACK])('$step', { timeout: 60_000 }, async (step) => {
    const first = await start();
    emulator.setFault('refuseTaxCode', EMULATOR_EXTRA_TAX_BYTES.vat22);
    const { job: failed } = (await first.call('fiscalize', { bill: bill('lost', {}) })) as {
      job: { id: string };
    };
    await until(async () => {
      const shown = (await first.call('jobs.show', { id: failed.id })) as { job: ShownJob };
      return shown.job.state === 'FAILED';
    }, 'the sale FAILED');
    emulator.clearFaults();
    await killDuring(first, step, () => first.call('correct', { jobId: failed.id, date: '2026-12-01' }));
    await verifyOnce(await start(), 'sellCorrection', 7);
  });
});

describe('SIGKILL during an advance and during its final receipt', () => {
  const advance = () =>
    bill('adv', { order: 'O-1' } as Partial<Bill>, [
      buildPosition({
        name: 'Аванс',
        priceMinor: 25_000,
        quantityMilli: 1000,
        vat: 'vat122',
        paymentMethod: 'advance',
        paymentObject: 'payment',
      }),
    ]);
  const final = () =>
    bill('fin', { order: 'O-1', payments: [{ type: 'prepaid', amountMinor: 25_000 }] } as Partial<Bill>);

  it.each([OPEN, CLOSE, READ_BACK])('$step', { timeout: 90_000 }, async (step) => {
    const first = await start();
    await killDuring(first, step, () => first.call('fiscalize', { bill: advance() }));
    const second = await start();
    await until(async () => {
      const { jobs } = (await second.call('jobs.list')) as { jobs: Array<{ state: string }> };
      return jobs.some((j) => j.state === 'FISCALIZED' || j.state === 'REPORTED');
    }, 'the advance printed');
    expect(receipts).toHaveLength(1);
    // The final receipt offsets the advance only once it is printed; kill during the final too.
    await killDuring(second, step, () => second.call('fiscalize', { bill: final() }));
    const third = await start();
    await until(async () => {
      const { jobs } = (await third.call('jobs.list')) as { jobs: Array<{ state: string }> };
      return jobs.filter((j) => j.state === 'FISCALIZED' || j.state === 'REPORTED').length === 2;
    }, 'the final receipt printed');
    expect(receipts).toHaveLength(2);
    expect(receipts[1]!.payments).toEqual([{ paymentType: 3, sumKop: 25_000 }]);
  });
});
