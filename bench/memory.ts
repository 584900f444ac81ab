import { memoryOf, startBridgedAgent } from './lib/agentProcessRig.js';
import { feedLikeBridge } from './lib/bridgeFeed.js';
import { cpuMsOf } from './lib/processAnatomy.js';

/**
 * Resident memory of a real `kkt-agent run` process with the given Node flags: idle (ready, one bridge
 * account polled, nothing to do) and after `receipts` bills fed as a bridge shows them (LIST holds at most a
 * day's unreported bills, `feedLikeBridge`), printed on the emulator and reported back, all journaled with
 * fsync. Read from /proc/<pid>/status (VmRSS, VmHWM for the peak); CPU from /proc/<pid>/stat.
 */

export interface MemoryBenchOptions {
  receipts: number;
  /** How long the agent idles before "idle" is read, and settles before "after" is read. */
  settleMs?: number;
  nodeArgs?: string[];
}

export interface MemoryBenchResult {
  receipts: number;
  idleRssBytes: number;
  afterRssBytes: number;
  peakRssBytes: number;
  receiptsPerSecond: number;
  cpuMsPerReceipt: number;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchMemory(options: MemoryBenchOptions): Promise<MemoryBenchResult> {
  const rig = await startBridgedAgent({ pollIntervalMs: 500, nodeArgs: options.nodeArgs });
  const { agent, bridge } = rig;
  try {
    const pid = agent.child.pid!;
    await settle(options.settleMs ?? 3000);
    const idle = await memoryOf(pid);
    const cpuBefore = await cpuMsOf(pid);
    const fed = await feedLikeBridge(bridge, agent.child, {
      receipts: options.receipts,
      firstBillId: 400_001,
    });
    const cpuMs = (await cpuMsOf(pid)) - cpuBefore;
    await settle(options.settleMs ?? 2000);
    const after = await memoryOf(pid);
    return {
      receipts: options.receipts,
      idleRssBytes: idle.rssBytes,
      afterRssBytes: after.rssBytes,
      peakRssBytes: after.peakRssBytes,
      receiptsPerSecond: options.receipts / fed.seconds,
      cpuMsPerReceipt: cpuMs / options.receipts,
    };
  } finally {
    await rig.close();
  }
}
