import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bridgeBill } from '../test/support/bridgeBills.js';
import { startBridgedAgent } from './lib/agentProcessRig.js';
import { tempDir } from './lib/agentRig.js';

/**
 * fsyncs per receipt, counted by the kernel: `strace -f -c -e trace=fsync,fdatasync` attached to a real
 * `kkt-agent run` (one ATOL register on TCP, one bridge account) while it polls, prints and reports
 * `receipts` bills. Counts every sync the process makes (the store, the small documents, anything else),
 * so it checks the store's own counter (durable commits + 2 per checkpoint). Skipped, not failed, where
 * strace is missing or may not attach (ptrace restricted).
 */

export interface FsyncBenchOptions {
  receipts: number;
}

export type FsyncBenchResult =
  | { receipts: number; fsync: number; fdatasync: number; perReceipt: number }
  | { skipped: string };

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function straceAvailable(): Promise<boolean> {
  try {
    await promisify(execFile)('strace', ['-V']);
    return true;
  } catch {
    return false;
  }
}

/** Calls per syscall from `strace -c` output. */
function callsOf(summary: string, syscall: string): number {
  const row = summary.split('\n').find((line) => line.trim().split(/\s+/).at(-1) === syscall);
  if (row === undefined) return 0;
  // % time, seconds, usecs/call, calls, [errors,] syscall
  const fields = row.trim().split(/\s+/);
  return Number(fields[3]);
}

/**
 * The fsync and fdatasync calls process `pid` (all its threads) makes while `work` runs, counted by
 * `strace -f -c` attached to it; `scratchDir` holds strace's summary.
 */
export async function countFsyncs(
  pid: number,
  scratchDir: string,
  work: () => Promise<void>,
): Promise<{ fsync: number; fdatasync: number } | { skipped: string }> {
  if (!(await straceAvailable())) return { skipped: 'strace is not installed' };
  const summaryPath = join(scratchDir, 'strace.txt');
  const strace = spawn(
    'strace',
    ['-f', '-c', '-e', 'trace=fsync,fdatasync', '-o', summaryPath, '-p', String(pid)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let straceErr = '';
  strace.stderr?.on('data', (chunk: Buffer) => {
    straceErr += chunk.toString();
  });
  try {
    await settle(500);
    if (strace.exitCode !== null) return { skipped: `strace could not attach: ${straceErr.trim()}` };
    await work();
    strace.kill('SIGINT');
    await once(strace, 'exit');
    const summary = await readFile(summaryPath, 'utf8');
    return { fsync: callsOf(summary, 'fsync'), fdatasync: callsOf(summary, 'fdatasync') };
  } finally {
    if (strace.exitCode === null && strace.signalCode === null) strace.kill('SIGKILL');
  }
}

export async function benchFsyncs(options: FsyncBenchOptions): Promise<FsyncBenchResult> {
  if (!(await straceAvailable())) return { skipped: 'strace is not installed' };
  const rig = await startBridgedAgent({ pollIntervalMs: 200 });
  const { agent, bridge } = rig;
  const dir = await tempDir();
  try {
    const waitReported = async (count: number) => {
      const deadline = Date.now() + 60_000 + count * 500;
      while (bridge.receipts.length < count) {
        if (Date.now() > deadline)
          throw new Error(`bench: ${bridge.receipts.length} of ${count} reported in time`);
        await settle(100);
      }
    };
    // The first bill opens the shift: its extra documents are not what a receipt costs.
    bridge.addBill(bridgeBill(700_000));
    await waitReported(1);
    const counted = await countFsyncs(agent.child.pid!, dir.path, async () => {
      for (let i = 1; i <= options.receipts; i++) bridge.addBill(bridgeBill(700_000 + i));
      await waitReported(options.receipts + 1);
      await settle(1000);
    });
    if ('skipped' in counted) return counted;
    return {
      receipts: options.receipts,
      ...counted,
      perReceipt: (counted.fsync + counted.fdatasync) / options.receipts,
    };
  } finally {
    await rig.close();
    await dir.remove();
  }
}
