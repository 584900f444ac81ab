import { unitNodeFlags } from '../test/support/unitFlags.js';
import { countFsyncs } from './fsyncs.js';
import { buildAgedDataDir } from './lib/agedDataDir.js';
import { memoryOf, type ProbedAgent, readHeapProbe, withProbedAgent } from './lib/agentProcessRig.js';
import { feedLikeBridge } from './lib/bridgeFeed.js';
import { cpuMsOf, readBytesOf } from './lib/processAnatomy.js';

/**
 * A box at several ages (issue 17): for each age a data directory is built as years of 300 receipts a day
 * and nightly retention leave it (`bench/lib/agedDataDir.ts`), then a real `kkt-agent run` (one ATOL
 * register, one bridge account polled every second, the Node flags of the systemd unit) is started on it:
 * start → READY=1, and once it idles the heap after a forced full GC (a preloaded probe,
 * `bench/lib/heapProbe.ts`), RSS and peak RSS. At the ages in `growthAges` it then serves
 * `growthReceipts` bills fed as a bridge shows them (`feedLikeBridge`: LIST holds at most a day's
 * unreported bills): RSS, heap and peak after them, CPU per receipt, and the fsyncs of a day's bills
 * counted by the kernel (strace).
 */

export interface AgeBenchOptions {
  ages: readonly number[];
  starts: number;
  receiptsPerDay?: number;
  /** How long the agent idles after READY before memory is read. */
  idleMs?: number;
  /** Ages (days) at which the agent then serves `growthReceipts` bills. */
  growthAges?: readonly number[];
  growthReceipts?: number;
  /** Bills whose fsyncs strace counts after the growth run (0: none). */
  fsyncReceipts?: number;
  /** Node flags; default the systemd unit's. */
  nodeArgs?: string[];
}

export interface GrowthResult {
  receipts: number;
  receiptsPerSecond: number;
  cpuMsPerReceipt: number;
  rssAfterBytes: number;
  /** RSS growth per receipt over the second half of the receipts (read right after each half). */
  steadyGrowthBytesPerReceipt: number;
  heapAfterGcBytes: number;
  peakRssBytes: number;
  /** fsync + fdatasync per receipt (strace), or why not counted. */
  fsyncsPerReceipt: number | string;
  /** Bytes the process's read syscalls returned per receipt (/proc/<pid>/io rchar). */
  readBytesPerReceipt: number;
}

export interface AgeResult {
  ageDays: number;
  jobs: number;
  databaseBytes: number;
  buildSeconds: number;
  readyMs: number[];
  /** CPU time (user + system) the process had used at READY=1, per start: what load moves least. */
  readyCpuMs: number[];
  heapAfterGcBytes: number;
  idleRssBytes: number;
  peakRssBytes: number;
  growth?: GrowthResult;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let nextBillId = 5_000_000;

async function growth(
  { agent, bridge, heapFile, dir }: ProbedAgent,
  options: AgeBenchOptions,
): Promise<GrowthResult> {
  const { child } = agent;
  const pid = child.pid!;
  const receipts = options.growthReceipts!;
  const cpuBefore = await cpuMsOf(pid);
  const readBefore = await readBytesOf(pid);
  // Half, then the other half: the second half's growth is the steady one, once the process has warmed up.
  const half = Math.floor(receipts / 2);
  const first = await feedLikeBridge(bridge, child, { receipts: half, firstBillId: nextBillId });
  const midRssBytes = (await memoryOf(pid)).rssBytes;
  const second = await feedLikeBridge(bridge, child, {
    receipts: receipts - half,
    firstBillId: nextBillId + half,
  });
  nextBillId += receipts;
  const fed = { seconds: first.seconds + second.seconds };
  const cpuMs = (await cpuMsOf(pid)) - cpuBefore;
  const readBytes = (await readBytesOf(pid)) - readBefore;
  const endRssBytes = (await memoryOf(pid)).rssBytes;
  await settle(options.idleMs ?? 3000);
  const memory = await memoryOf(pid);
  const { heapAfterGcBytes } = await readHeapProbe(pid, heapFile);
  let fsyncsPerReceipt: number | string = 'not counted';
  const fsyncReceipts = options.fsyncReceipts ?? 0;
  if (fsyncReceipts > 0) {
    const counted = await countFsyncs(pid, dir, async () => {
      await feedLikeBridge(bridge, child, { receipts: fsyncReceipts, firstBillId: nextBillId });
      nextBillId += fsyncReceipts;
      await settle(1000);
    });
    fsyncsPerReceipt =
      'skipped' in counted ? counted.skipped : (counted.fsync + counted.fdatasync) / fsyncReceipts;
  }
  return {
    receipts,
    receiptsPerSecond: receipts / fed.seconds,
    cpuMsPerReceipt: cpuMs / receipts,
    rssAfterBytes: memory.rssBytes,
    steadyGrowthBytesPerReceipt: (endRssBytes - midRssBytes) / (receipts - half),
    heapAfterGcBytes,
    peakRssBytes: memory.peakRssBytes,
    fsyncsPerReceipt,
    readBytesPerReceipt: readBytes / receipts,
  };
}

export async function benchAges(options: AgeBenchOptions): Promise<AgeResult[]> {
  const results: AgeResult[] = [];
  for (const ageDays of options.ages) {
    const result: AgeResult = {
      ageDays,
      jobs: Number.NaN,
      databaseBytes: Number.NaN,
      buildSeconds: Number.NaN,
      readyMs: [],
      readyCpuMs: [],
      heapAfterGcBytes: Number.NaN,
      idleRssBytes: Number.NaN,
      peakRssBytes: Number.NaN,
    };
    await withProbedAgent(
      {
        nodeArgs: options.nodeArgs ?? unitNodeFlags(),
        starts: options.starts,
        prepareDataDir: async (dataDir) => {
          const built = await buildAgedDataDir(dataDir, { ageDays, receiptsPerDay: options.receiptsPerDay });
          result.jobs = built.jobs;
          result.databaseBytes = built.databaseBytes;
          result.buildSeconds = built.buildSeconds;
        },
      },
      async (rig, start) => {
        result.readyMs.push(rig.agent.readyMs);
        result.readyCpuMs.push(rig.agent.readyCpuMs);
        // Memory is read on the last start only: the earlier ones warm the page cache as a box that
        // restarts has it warm (a cold first start after boot is slower; its READY time is kept too).
        if (start !== options.starts - 1) return;
        await settle(options.idleMs ?? 3000);
        const pid = rig.agent.child.pid!;
        result.heapAfterGcBytes = (await readHeapProbe(pid, rig.heapFile)).heapAfterGcBytes;
        const memory = await memoryOf(pid);
        result.idleRssBytes = memory.rssBytes;
        result.peakRssBytes = memory.peakRssBytes;
        if (options.growthAges?.includes(ageDays) && (options.growthReceipts ?? 0) > 0) {
          result.growth = await growth(rig, options);
        }
      },
    );
    results.push(result);
  }
  return results;
}
