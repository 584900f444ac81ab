import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AtolEmulator,
  type CommandEvent,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { type MockBillJson, type MockBridge, startMockBridge } from '../../src/emulators/bridge/index.js';
import { type AgentProcess, startAgentProcess, until, writeAgentConfig } from '../support/agentProcess.js';

/**
 * The kill-point matrix: a real agent process is SIGKILLed after each protocol step of a 5-position
 * receipt and around each journal write, then started again. Whatever the moment, the bill must end up
 * as exactly one fiscal document, its job must carry that document's data, and the cloud must receive
 * exactly one distinct report for it.
 */

const TZ = 'Europe/Moscow';
let dir: string;
let emulator: AtolEmulator;
let bridge: MockBridge;
let agents: AgentProcess[] = [];
let receipts: JournalEntry[];

const FIVE_POSITIONS: MockBillJson = {
  id: 500_001,
  date: '2026-11-21 18:30:00',
  summ: 2797.18,
  number: 'KILL-1',
  customer: {
    id: 7,
    inn: '',
    kpp: '',
    reg: '',
    name: 'Покупатель ',
    okpo: '',
    fullname: 'Покупатель ',
    legalentity: false,
  },
  products: [
    {
      id: 1,
      type: 'NORMAL',
      price: 1037,
      taxrate: 'Без НДС',
      itemType: 1,
      prodname: 'Позиция 1',
      quantity: 1,
      unitname: 'Штука',
    },
    {
      id: 2,
      type: 'NORMAL',
      price: 12.35,
      taxrate: '5%',
      itemType: 1,
      prodname: 'Позиция 2, развес',
      quantity: 85,
      unitname: 'Грамм',
    },
    {
      id: 3,
      type: 'NORMAL',
      price: 215.5,
      taxrate: '7%',
      itemType: 1,
      prodname: 'Позиция 3',
      quantity: 3,
      unitname: 'Штука',
    },
    {
      id: 4,
      type: 'NORMAL',
      price: 6.03,
      taxrate: '20%',
      itemType: 1,
      prodname: 'Позиция 4',
      quantity: 1,
      unitname: 'Штука',
    },
    {
      id: 5,
      type: 'NORMAL',
      price: 28.95,
      taxrate: '22%',
      itemType: 1,
      prodname: 'Позиция 5',
      quantity: 2,
      unitname: 'Штука',
    },
  ],
  prepayment: 0,
  prepaymentEnable: true,
};

async function agentConfig() {
  return writeAgentConfig(dir, {
    dataDir: join(dir, 'data'),
    timeZone: TZ,
    log: { level: 'warn' },
    control: { socketPath: join(dir, 'control.sock') },
    devices: [
      {
        id: 'kkt',
        kind: 'atol',
        link: { type: 'tcp', host: '127.0.0.1', port: emulator.port },
        operator: { name: 'Кассир' },
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      },
    ],
    fiscalizer: { retryDelayMs: 100 },
    outbox: { initialBackoffMs: 50, maxBackoffMs: 200 },
    connectors: {
      bridge: [
        {
          id: '120',
          baseUrl: bridge.url,
          timeoutMs: 2000,
          autoFiscalize: { enabled: true, intervalMs: 200 },
        },
      ],
    },
  });
}

async function start(env: Record<string, string> = {}, waitReady = true) {
  const agent = await startAgentProcess(await agentConfig(), join(dir, 'control.sock'), { env, waitReady });
  agents.push(agent);
  return agent;
}

/** Restarts the agent after the kill and checks the promise: one document, right data, one report. */
async function restartAndVerify() {
  const agent = await start();
  const job = await until(
    async () => {
      const { jobs } = (await agent.call('jobs.list')) as { jobs: Array<{ id: string; state: string }> };
      return jobs.find((j) => j.state === 'REPORTED');
    },
    'the job REPORTED after the restart',
    30_000,
  ).catch(async (error: Error) => {
    const { jobs } = (await agent.call('jobs.list')) as { jobs: unknown[] };
    throw new Error(
      `${error.message}\njobs: ${JSON.stringify(jobs)}\nagent output:\n${agent.output().slice(-3000)}`,
    );
  });
  const ours = receipts.filter((r) => r.marker === job.id);
  expect(receipts).toHaveLength(1);
  expect(ours).toHaveLength(1);
  expect(ours[0]?.totalKop).toBe(279_718);
  const shown = (await agent.call('jobs.show', { id: job.id })) as {
    job: { fiscal: { fiscalDocumentNumber: number; fiscalSign: string } };
  };
  expect(shown.job.fiscal).toMatchObject({
    fiscalDocumentNumber: ours[0]?.documentNumber,
    fiscalSign: ours[0]?.fiscalSign,
  });
  const eventIds = new Set(bridge.receipts.map((r) => (r.body as { data: { id: string } }).data.id));
  expect(eventIds.size).toBe(1);
  const event = bridge.receipts[0]?.body as { data: { totalAmount: number; extras: { billId: string } } };
  expect(event.data).toMatchObject({ totalAmount: 2797.18, extras: { billId: '500001' } });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-kill-'));
  emulator = await startAtolEmulator({ port: 0, persist: false, timeZone: TZ, asyncLatencyMs: 5 });
  receipts = [];
  emulator.on('document', (entry) => {
    if (entry.kind === 'receipt') receipts.push(entry);
  });
  bridge = await startMockBridge({ port: 0, timeZone: TZ, bills: [FIVE_POSITIONS] });
});

afterEach(async () => {
  for (const agent of agents) await agent.kill();
  agents = [];
  await bridge.close();
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

/** Kill the agent right after the emulator answered the n-th command with this code within the receipt. */
interface ProtocolKill {
  step: string;
  code: string;
  occurrence: number;
}

const PROTOCOL_KILLS: ProtocolKill[] = [
  { step: 'open receipt (92)', code: '92', occurrence: 1 },
  ...[1, 2, 3, 4, 5].map((n) => ({ step: `position ${n} (EB)`, code: 'EB', occurrence: n })),
  { step: 'receipt tags (E8 1192)', code: 'E8', occurrence: 7 },
  { step: 'close with payment (4A): the FD exists, unread', code: '4A', occurrence: 1 },
  { step: 'read-back of the last FD number (A4 30)', code: 'A4 30', occurrence: 1 },
  { step: 'read-back of the document (A4 46)', code: 'A4 46', occurrence: 1 },
];

describe('SIGKILL after each protocol step of a 5-position receipt', () => {
  it.each(PROTOCOL_KILLS)('$step', { timeout: 60_000 }, async ({ code, occurrence }) => {
    let inReceipt = false;
    let seen = 0;
    // Listen from the moment the process exists: a fast agent prints before it answers `status`.
    const agent = await start({}, false);
    const killed = new Promise<void>((resolve) => {
      const onCommand = (event: CommandEvent) => {
        if (event.code === '92') inReceipt = true;
        if (!inReceipt || event.code !== code || ++seen !== occurrence) return;
        emulator.off('command', onCommand);
        // Hold the agent's next command so the kill lands right after this step.
        emulator.setFault('slowMs', 3000);
        void agent.kill().then(() => {
          emulator.setFault('slowMs', 0);
          resolve();
        });
      };
      emulator.on('command', onCommand);
    });
    await killed;
    await restartAndVerify();
  });
});

const JOURNAL_KILLS = [
  'journal:RECEIVED:before',
  'journal:RECEIVED:after',
  'journal:PRINTING:before',
  'journal:PRINTING:after',
  'fiscalizer:before-print',
  'journal:FISCALIZED:before',
  'journal:FISCALIZED:after',
  'outbox:publish:before',
  'outbox:publish:after',
  'outbox:delivered:before',
  'journal:REPORTED:before',
  'journal:REPORTED:after',
];

describe('SIGKILL around each journal write', () => {
  it.each(JOURNAL_KILLS)('%s', { timeout: 60_000 }, async (point) => {
    const agent = await start({ KKT_AGENT_CRASH_AT: point }, false);
    await agent.exited;
    expect(agent.child.signalCode).toBe('SIGKILL');
    expect(agent.output()).toContain(`crash point ${point} reached`);
    await restartAndVerify();
  });
});
