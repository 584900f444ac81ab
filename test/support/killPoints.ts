import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AtolEmulator,
  type CommandEvent,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { type MockBillJson, type MockBridge, startMockBridge } from '../../src/emulators/bridge/index.js';
import { type AgentProcess, startAgentInDir, until } from './agentProcess.js';
import { atolDevice } from './shopConfig.js';

/**
 * The kill-point matrix, shared by its end-to-end test (test/e2e/killPoints.e2e.test.ts, which asserts)
 * and the chaos suite (chaos/, which counts): a real agent process is SIGKILLed after one protocol step of
 * a 5-position receipt, or at one store transaction, then started again until the bill is REPORTED.
 */

export const KILL_POINT_TZ = 'Europe/Moscow';

export const FIVE_POSITIONS: MockBillJson = {
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
      taxrate: '22%',
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

/**
 * Kill the agent right after the emulator ran the n-th command with this code within the receipt (for
 * `E8`, counting only writes of `tag` when it is given).
 */
export interface ProtocolKill {
  step: string;
  code: string;
  occurrence: number;
  tag?: number;
}

/** The receipt's steps in the order the driver sends them (docs/protocol/atol-v3.md §6). */
export const PROTOCOL_KILLS: ProtocolKill[] = [
  { step: 'open receipt (92)', code: '92', occurrence: 1 },
  { step: 'receipt tags (E8 1192, posted)', code: 'E8', occurrence: 1, tag: 1192 },
  { step: 'position 1 started (EA, posted)', code: 'EA', occurrence: 1 },
  ...[1, 2, 3, 4, 5].map((n) => ({ step: `position ${n} (EB)`, code: 'EB', occurrence: n })),
  { step: 'close with payment (4A): the FD exists, unread', code: '4A', occurrence: 1 },
  { step: 'read-back: the document selected (A4 45)', code: 'A4 45', occurrence: 1 },
  { step: 'read-back of the document (A4 46)', code: 'A4 46', occurrence: 1 },
];

/**
 * Crash points (`KKT_AGENT_CRASH_AT`) around every store transaction a receipt makes: before its BEGIN and
 * after its COMMIT. FISCALIZED commits with the outbox rows it creates, and the delivery commits with
 * REPORTED, so there is no point between a job and its reports to kill at (docs/storage.md, "Transactions").
 */
export const STORE_KILLS = [
  'store:job-RECEIVED:before',
  'store:job-RECEIVED:after',
  'store:job-PRINTING:before',
  'store:job-PRINTING:after',
  'fiscalizer:before-print',
  'store:job-FISCALIZED:before',
  'store:job-FISCALIZED:after',
  'store:outbox-delivered:before',
  'store:outbox-delivered:after',
];

/** What the restarted agent and the emulator and bridge show once the bill is REPORTED. */
export interface KillOutcome {
  job: { id: string; fiscal: { fiscalDocumentNumber: number; fiscalSign: string } };
  /** Every receipt the register made. */
  receipts: JournalEntry[];
  /** Distinct ReceiptCreated ids the bridge received. */
  eventIds: string[];
  events: Array<{ id: string; totalAmount: number; extras: { billId: string } }>;
}

export interface KillPointRig {
  emulator: AtolEmulator;
  bridge: MockBridge;
  /** Kills the agent right after a protocol step of the receipt. */
  killAfterCommand(kill: ProtocolKill): Promise<void>;
  /** Starts an agent that SIGKILLs itself at a crash point; resolves its output once it died. */
  crashAt(point: string): Promise<{ signal: NodeJS.Signals | null; output: string }>;
  /** Starts the agent again and waits until the bill is REPORTED (rejects with the agent's output if not). */
  restartUntilReported(timeoutMs?: number): Promise<KillOutcome>;
  close(): Promise<void>;
}

/**
 * SIGKILLs `agent` right after `emulator` ran the `occurrence`-th (default: first) command `code` within a
 * receipt (from its 92 on; for `E8`, counting only writes of `tag` when it is given), holding the agent's
 * next command so that the kill lands right after this step. Listens from the call; resolves once the
 * agent is dead.
 */
export function killAfterReceiptStep(
  emulator: AtolEmulator,
  agent: AgentProcess,
  step: { code: string; tag?: number; occurrence?: number },
): Promise<void> {
  let inReceipt = false;
  let seen = 0;
  return new Promise<void>((resolve) => {
    const onCommand = (event: CommandEvent) => {
      if (event.code === '92') inReceipt = true;
      if (!inReceipt || event.code !== step.code) return;
      if (step.tag !== undefined && (event.params as { tlv?: { tag: number } }).tlv?.tag !== step.tag) return;
      if (++seen !== (step.occurrence ?? 1)) return;
      emulator.off('command', onCommand);
      emulator.setFault('slowMs', 3000);
      void agent.kill().then(() => {
        emulator.setFault('slowMs', 0);
        resolve();
      });
    };
    emulator.on('command', onCommand);
  });
}

export async function openKillPointRig(): Promise<KillPointRig> {
  const dir = await mkdtemp(join(tmpdir(), 'kkt-kill-'));
  const emulator = await startAtolEmulator({
    port: 0,
    persist: false,
    timeZone: KILL_POINT_TZ,
    asyncLatencyMs: 5,
  });
  const receipts: JournalEntry[] = [];
  emulator.on('document', (entry) => {
    if (entry.kind === 'receipt') receipts.push(entry);
  });
  const bridge = await startMockBridge({ port: 0, timeZone: KILL_POINT_TZ, bills: [FIVE_POSITIONS] });
  const agents: AgentProcess[] = [];

  const start = async (env: Record<string, string> = {}, waitReady = true) => {
    const config = {
      timeZone: KILL_POINT_TZ,
      devices: [
        // The bill's 5 % and 7 % positions are УСН rates.
        atolDevice(emulator.port, {
          taxationType: 'usnIncome',
          reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
        }),
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
    };
    const agent = await startAgentInDir(dir, config, { env, waitReady });
    agents.push(agent);
    return agent;
  };

  return {
    emulator,
    bridge,
    async killAfterCommand(kill) {
      // Listen from the moment the process exists: a fast agent prints before it answers `status`.
      const agent = await start({}, false);
      await killAfterReceiptStep(emulator, agent, kill);
    },
    async crashAt(point) {
      const agent = await start({ KKT_AGENT_CRASH_AT: point }, false);
      await agent.exited;
      return { signal: agent.child.signalCode, output: agent.output() };
    },
    async restartUntilReported(timeoutMs = 30_000) {
      const agent = await start();
      const job = await until(
        async () => {
          const { jobs } = (await agent.call('jobs.list')) as { jobs: Array<{ id: string; state: string }> };
          return jobs.find((j) => j.state === 'REPORTED');
        },
        'the job REPORTED after the restart',
        timeoutMs,
      ).catch(async (error: Error) => {
        const { jobs } = (await agent.call('jobs.list')) as { jobs: unknown[] };
        throw new Error(
          `${error.message}\njobs: ${JSON.stringify(jobs)}\nagent output:\n${agent.output().slice(-3000)}`,
        );
      });
      const shown = (await agent.call('jobs.show', { id: job.id })) as { job: KillOutcome['job'] };
      const events = bridge.receipts.map((r) => (r.body as { data: KillOutcome['events'][number] }).data);
      return {
        job: shown.job,
        receipts: [...receipts],
        eventIds: [...new Set(events.map((e) => e.id))],
        events,
      };
    },
    async close() {
      for (const agent of agents) await agent.kill();
      await bridge.close();
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
