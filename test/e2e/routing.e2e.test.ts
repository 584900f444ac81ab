import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AtolEmulator,
  EMULATOR_EXTRA_TAX_BYTES,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { type IntentEmulator, startIntentEmulator } from '../../src/emulators/intent/index.js';
import { type AgentProcess, runCli, startAgentInDir, until } from '../support/agentProcess.js';

/**
 * One agent serving two markets: an ATOL register for roubles and a SmartX terminal for Belarusian
 * roubles. Routing sends each bill to the right device; an unanswered SmartX sale is never resent but
 * blocked for a technician, who resolves it from the CLI.
 */

let dir: string;
let atol: AtolEmulator;
let smartx: IntentEmulator;
let agent: AgentProcess;

interface JobView {
  id: string;
  state: string;
  device: string;
  blocked?: string;
}

const bill = (billId: string, currency: 'RUB' | 'BYN', payment: 'card' | 'cash' = 'cash') => ({
  source: 'pos',
  account: 'front',
  billId,
  number: `N${billId}`,
  currency,
  positions: [
    {
      name: 'Хлеб',
      priceMinor: 189,
      quantityMilli: 2000,
      amountMinor: 378,
      unit: 'piece',
      vat: 'none',
      vatMinor: 0,
      paymentMethod: 'fullPayment',
      paymentObject: 'commodity',
    },
  ],
  payments: [{ type: payment, amountMinor: 378 }],
  totalMinor: 378,
});

async function submit(billJson: ReturnType<typeof bill>) {
  return (await agent.call('fiscalize', { bill: billJson })) as { job: JobView; duplicate: boolean };
}

const job = async (id: string) =>
  ((await agent.call('jobs.show', { id })) as { job: JobView & { deviceId: string } }).job;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-routing-'));
  atol = await startAtolEmulator({ port: 0, persist: false, timeZone: 'Europe/Moscow', asyncLatencyMs: 5 });
  smartx = await startIntentEmulator({ port: 0, pin: '4321', cardWaitMs: 50 });
  agent = await startAgentInDir(dir, {
    devices: [
      {
        id: 'kkt',
        kind: 'atol',
        link: { type: 'tcp', host: '127.0.0.1', port: atol.port },
        operator: { name: 'Кассир' },
        taxBytes: EMULATOR_EXTRA_TAX_BYTES,
      },
      { id: 'smartx', kind: 'intent', baseUrl: smartx.url, pin: '4321', saleTimeoutMs: 2000 },
    ],
    routing: { rules: [{ currency: 'BYN', device: 'smartx' }], defaultDevice: 'kkt' },
  });
  // A new store: the SmartX terminal cannot be read back, so it prints nothing until a technician has
  // accounted for its earlier sales (docs/operations.md, "Replacing the SD card").
  await until(
    async () => (await runCli(['recover', '--confirm', 'smartx', '--socket', agent.socket])).code === 0,
    'the terminal confirmed',
  );
});

afterEach(async () => {
  await agent.stop();
  await smartx.close();
  await atol.close();
  await rm(dir, { recursive: true, force: true });
});

describe('routing between an ATOL register and a SmartX terminal', () => {
  it('prints roubles on the register and Belarusian roubles on the terminal; status shows both', async () => {
    const rub = await submit(bill('1', 'RUB'));
    const byn = await submit(bill('2', 'BYN', 'card'));
    await until(
      async () =>
        (await job(rub.job.id)).state === 'FISCALIZED' || (await job(rub.job.id)).state === 'REPORTED',
      'RUB printed',
    );
    await until(
      async () => ['FISCALIZED', 'REPORTED'].includes((await job(byn.job.id)).state),
      'BYN printed',
    );
    expect((await job(rub.job.id)).deviceId).toBe('kkt');
    expect((await job(byn.job.id)).deviceId).toBe('smartx');
    expect(atol.device.documents.filter((d) => d.type === 3)).toHaveLength(1);
    expect(smartx.sales).toHaveLength(1);
    const status = JSON.parse((await runCli(['status', '--json', '--socket', agent.socket])).stdout) as {
      devices: Array<{ id: string; online: boolean }>;
    };
    expect(status.devices.map((d) => [d.id, d.online])).toEqual([
      ['kkt', true],
      ['smartx', true],
    ]);
  });

  it('blocks a sale whose answer was lost, and a technician resolves it as printed: it is never resent', async () => {
    smartx.setFault({ kind: 'dropAfterSale' });
    const { job: submitted } = await submit(bill('3', 'BYN'));
    const blocked = await until(async () => {
      const current = await job(submitted.id);
      return current.state === 'BLOCKED' ? current : undefined;
    }, 'BLOCKED');
    expect(smartx.sales).toHaveLength(1);
    const status = await runCli(['status', '--socket', agent.socket]);
    expect(status.stdout).toContain('1 job(s) blocked, waiting for a decision');
    expect(status.stdout).toContain(blocked.id);
    const resolved = await runCli([
      'jobs',
      'resolve',
      submitted.id,
      '--printed',
      '--note',
      'receipt 1 found on the terminal',
      '--socket',
      agent.socket,
    ]);
    expect(resolved.stdout).toContain(`Job ${submitted.id} is now`);
    await until(async () => ['FISCALIZED', 'REPORTED'].includes((await job(submitted.id)).state), 'resolved');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smartx.sales).toHaveLength(1);
  });

  it('resolved as not printed, the sale is sent again once', async () => {
    smartx.setFault({ kind: 'dropBeforeSale' });
    const { job: submitted } = await submit(bill('4', 'BYN'));
    await until(async () => (await job(submitted.id)).state === 'BLOCKED', 'BLOCKED');
    expect(smartx.sales).toHaveLength(0);
    await runCli(['jobs', 'resolve', submitted.id, '--not-printed', '--socket', agent.socket]);
    await until(
      async () => ['FISCALIZED', 'REPORTED'].includes((await job(submitted.id)).state),
      'printed after the decision',
    );
    expect(smartx.sales).toHaveLength(1);
  });

  it.each([
    ['a general error after the payment (399)', { kind: 'fiscalisationFails' as const }],
    ['an undocumented result code', { kind: 'resultCode' as const, resultCode: 499 }],
  ])('blocks on %s instead of charging again', async (_what, fault) => {
    smartx.setFault(fault);
    const { job: submitted } = await submit(bill(`x${fault.kind}`, 'BYN', 'card'));
    const blocked = await until(async () => {
      const current = await job(submitted.id);
      return current.state === 'BLOCKED' ? current : undefined;
    }, 'BLOCKED');
    expect(JSON.stringify(blocked)).toMatch(/does not prove the sale did not happen/);
    const requests = smartx.requests.filter((r) => r.intent === 'SALE');
    expect(requests).toHaveLength(1);
  });

  it('blocks on an unfinished sale (410) with a message that asks for a person', async () => {
    smartx.createUnfinishedSale();
    const { job: submitted } = await submit(bill('5', 'BYN'));
    const blocked = await until(async () => {
      const current = await job(submitted.id);
      return current.state === 'BLOCKED' ? current : undefined;
    }, 'BLOCKED');
    expect(JSON.stringify(blocked)).toMatch(/unfinished sale.*finish or cancel it on the terminal/);
    expect(smartx.sales).toHaveLength(0);
  });
});
