import type { ChildProcess } from 'node:child_process';
import { readHeapProbe, withProbedAgent } from './lib/agentProcessRig.js';
import { feedLikeBridge } from './lib/bridgeFeed.js';
import { anatomyOf } from './lib/processAnatomy.js';

/**
 * Where a serving agent's memory grows while it warms up (issue 17): a fresh `kkt-agent run` (one ATOL
 * register on TCP, one bridge account polled every second) is fed bills as a bridge shows them and read at
 * each checkpoint (receipts served so far): RSS split into anonymous and file pages and peak RSS from /proc,
 * then, after a forced full GC (the preloaded probe), the heap in use, V8's old and code spaces and the
 * code V8 holds (`v8.getHeapSpaceStatistics`, `v8.getHeapCodeStatistics`): what is ours (objects on the old
 * space) and what is V8's (compiled code) in the growth.
 */
export interface WarmupOptions {
  nodeArgs: string[];
  /** Receipts served at each reading, ascending; 0 reads the idle agent. */
  checkpoints: readonly number[];
  idleMs?: number;
}

export interface WarmupReading {
  receipts: number;
  rssBytes: number;
  rssAnonBytes: number;
  peakRssBytes: number;
  heapAfterGcBytes: number;
  oldSpaceUsedBytes: number;
  /** Committed (resident) pages of V8's code space. */
  codeSpaceBytes: number;
  /** Machine code and its metadata (JIT: baseline and optimized code). */
  codeBytes: number;
  /** Bytecode and its metadata (the interpreter's). */
  bytecodeBytes: number;
  cpuMs: number;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readingOf(child: ChildProcess, heapFile: string, receipts: number): Promise<WarmupReading> {
  const pid = child.pid!;
  const anatomy = await anatomyOf(pid);
  const { heapAfterGcBytes, spaces, code } = await readHeapProbe(pid, heapFile);
  const space = (name: string) => spaces.find((entry) => entry.space_name === name);
  return {
    receipts,
    rssBytes: anatomy.rssBytes,
    rssAnonBytes: anatomy.rssAnonBytes,
    peakRssBytes: anatomy.peakRssBytes,
    heapAfterGcBytes,
    oldSpaceUsedBytes: space('old_space')?.space_used_size ?? Number.NaN,
    codeSpaceBytes: space('code_space')?.physical_space_size ?? Number.NaN,
    codeBytes: code.code_and_metadata_size,
    bytecodeBytes: code.bytecode_and_metadata_size,
    cpuMs: anatomy.cpuMs,
  };
}

export async function benchWarmup(options: WarmupOptions): Promise<WarmupReading[]> {
  return withProbedAgent(options, async ({ agent, bridge, heapFile }) => {
    const readings: WarmupReading[] = [];
    let served = 0;
    for (const receipts of options.checkpoints) {
      if (receipts > served) {
        await feedLikeBridge(bridge, agent.child, {
          receipts: receipts - served,
          firstBillId: 6_000_000 + served,
        });
        served = receipts;
      }
      await settle(options.idleMs ?? 3000);
      readings.push(await readingOf(agent.child, heapFile, receipts));
    }
    return readings;
  });
}
