import { performance } from 'node:perf_hooks';
import { bridgeBills } from '../test/support/bridgeBills.js';
import { memoryOf, startBridgedAgent } from './lib/agentProcessRig.js';

/**
 * Resident memory of a real `kkt-agent run` process: idle (ready, one bridge account polled, nothing to
 * do) and after `receipts` bills were polled from the mock bridge, printed on the emulator and reported
 * back, all journaled with fsync. Read from /proc/<pid>/status (VmRSS, VmHWM for the peak).
 */

export interface MemoryBenchOptions {
  receipts: number;
  /** How long the agent idles before "idle" is read, and settles before "after" is read. */
  settleMs?: number;
}

export interface MemoryBenchResult {
  receipts: number;
  idleRssBytes: number;
  afterRssBytes: number;
  peakRssBytes: number;
  receiptsPerSecond: number;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchMemory(options: MemoryBenchOptions): Promise<MemoryBenchResult> {
  const rig = await startBridgedAgent({ pollIntervalMs: 500 });
  const { agent, bridge } = rig;
  try {
    const pid = agent.child.pid!;
    await settle(options.settleMs ?? 3000);
    const idle = await memoryOf(pid);
    const started = performance.now();
    for (const bill of bridgeBills(options.receipts, 400_001)) bridge.addBill(bill);
    const deadline = started + 60_000 + options.receipts * 200;
    while (bridge.receipts.length < options.receipts) {
      if (performance.now() > deadline) {
        throw new Error(`bench: ${bridge.receipts.length} of ${options.receipts} receipts reported in time`);
      }
      if (agent.child.exitCode !== null || agent.child.signalCode !== null) {
        throw new Error(`bench: the agent exited:\n${agent.output().slice(-3000)}`);
      }
      await settle(200);
    }
    const seconds = (performance.now() - started) / 1000;
    await settle(options.settleMs ?? 2000);
    const after = await memoryOf(pid);
    return {
      receipts: options.receipts,
      idleRssBytes: idle.rssBytes,
      afterRssBytes: after.rssBytes,
      peakRssBytes: after.peakRssBytes,
      receiptsPerSecond: options.receipts / seconds,
    };
  } finally {
    await rig.close();
  }
}
