import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceSnapshot } from '../../src/agent/devices/device.js';
import {
  type AtolEmulator,
  type CommandEvent,
  EMULATOR_EXTRA_TAX_BYTES,
  type JournalEntry,
  startAtolEmulator,
} from '../../src/emulators/atol/index.js';
import { type AgentProcess, runCli, startAgentInDir, until } from '../support/agentProcess.js';
import { sampleBill } from '../support/bills.js';
import { type SocatPty, startSocatPty } from '../support/socat.js';

/**
 * Issue 18.8: a register that goes silent with its link still open (TCP connected, the serial port still
 * there). The agent must notice from the timeouts alone, drop and reopen the link, say "not answering
 * since …" in `status`, and print every bill exactly once when the register answers again.
 */

let dir: string;
let emulator: AtolEmulator;
let documents: JournalEntry[];
let agent: AgentProcess | undefined;
let pty: SocatPty | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-silent-'));
  emulator = await startAtolEmulator({
    port: 0,
    persist: false,
    timeZone: 'Europe/Moscow',
    asyncLatencyMs: 5,
  });
  documents = [];
  emulator.on('document', (entry) => documents.push(entry));
});

afterEach(async () => {
  await agent?.kill();
  agent = undefined;
  await pty?.stop();
  pty = undefined;
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

async function startAgent(link: Record<string, unknown>): Promise<AgentProcess> {
  agent = await startAgentInDir(dir, {
    timeZone: 'Europe/Moscow',
    devices: [
      {
        id: 'kkt',
        kind: 'atol',
        link,
        operator: { name: 'Кассир' },
        taxBytes: EMULATOR_EXTRA_TAX_BYTES,
        // Fast timeouts, so a silence is noticed in seconds (production: 500 ms replies, 3 timeouts).
        replyTimeoutMs: 150,
        reconnect: { initialDelayMs: 100, maxDelayMs: 400, reopenAfterTimeouts: 3 },
      },
    ],
    fiscalizer: { retryDelayMs: 100, maxRetryDelayMs: 400 },
  });
  return agent;
}

type JobView = { id: string; state: string; key: string };

async function submit(running: AgentProcess, billId: string): Promise<string> {
  const bill = JSON.parse(JSON.stringify(sampleBill(billId, { positions: 2 })));
  const { job } = (await running.call('fiscalize', { bill })) as { job: JobView };
  return job.id;
}

async function reported(running: AgentProcess, jobId: string, timeoutMs = 30_000): Promise<void> {
  await until(
    async () => {
      const { job } = (await running.call('jobs.show', { id: jobId })) as { job: JobView };
      return job.state === 'REPORTED';
    },
    `job ${jobId} REPORTED`,
    timeoutMs,
  );
}

async function device(running: AgentProcess): Promise<DeviceSnapshot> {
  const status = (await running.call('status')) as { devices: DeviceSnapshot[] };
  return status.devices[0]!;
}

/** The receipts the register made per bill (each bill is named in its first item: sampleBill's "Товар 1"). */
const receipts = () => documents.filter((d) => d.documentType === 3);

/** Goes silent as the next receipt opens (`92`), so the silence falls in the middle of a receipt. */
function silenceAtNextReceipt(): Promise<void> {
  return new Promise((resolve) => {
    const onCommand = (event: CommandEvent) => {
      if (event.code !== '92') return;
      emulator.off('command', onCommand);
      emulator.setFault('silent');
      resolve();
    };
    emulator.on('command', onCommand);
  });
}

async function silentThenBack(running: AgentProcess): Promise<void> {
  const first = await submit(running, 'before-silence');
  await reported(running, first);
  const silenced = silenceAtNextReceipt();
  const second = await submit(running, 'during-silence');
  await silenced;
  const silent = await until(async () => {
    const snapshot = await device(running);
    return !snapshot.online && snapshot.notAnsweringSince ? snapshot : undefined;
  }, 'the device offline, not answering');
  expect(Date.parse(silent.notAnsweringSince!)).not.toBeNaN();
  const view = await runCli(['status', '--socket', running.socket]);
  expect(view.stdout).toContain(
    `Device kkt (atol) — OFFLINE, not answering since ${silent.notAnsweringSince}`,
  );
  expect(view.stdout).toContain('ATTENTION');
  expect(running.output()).toContain('"event":"kkt.not-answering"');

  emulator.setFault('silent', false);
  await reported(running, second);
  const after = await device(running);
  expect(after.online).toBe(true);
  expect(after.notAnsweringSince).toBeUndefined();
  // One receipt per bill: the one cut off by the silence was reconciled, never printed twice.
  expect(receipts()).toHaveLength(2);
}

describe('18.8 a register silent on an open link is reopened', { timeout: 90_000 }, () => {
  it('over TCP: not answering since …, the link dropped and reopened, the bill printed once when it answers', async () => {
    const running = await startAgent({ type: 'tcp', host: '127.0.0.1', port: emulator.port });
    const closedByAgent: string[] = [];
    let connections = 0;
    emulator.on('disconnect', (info) => closedByAgent.push(info.reason));
    emulator.on('connection', () => connections++);
    await silentThenBack(running);
    expect(closedByAgent).toContain('closed by the host');
    expect(connections).toBeGreaterThanOrEqual(1);
  });

  it('over TCP: a connection that went deaf (half-open) is replaced, and later bills print', async () => {
    const running = await startAgent({ type: 'tcp', host: '127.0.0.1', port: emulator.port });
    const first = await submit(running, 'before-deaf');
    await reported(running, first);
    emulator.setFault('deafConnection');
    const later = [await submit(running, 'after-deaf-1'), await submit(running, 'after-deaf-2')];
    for (const job of later) await reported(running, job);
    expect(receipts()).toHaveLength(3);
    expect(running.output()).toContain('"event":"kkt.not-answering"');
  });

  it('over a serial port (socat PTY): the port is reopened, status says so, the bill printed once', async () => {
    pty = await startSocatPty({ port: emulator.port });
    const running = await startAgent({ type: 'serial', path: pty.path });
    await silentThenBack(running);
  });
});
