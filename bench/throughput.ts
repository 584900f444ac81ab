import { performance } from 'node:perf_hooks';
import { sampleBill } from '../test/support/bills.js';
import { RecordingSink } from '../test/support/recordingSink.js';
import { openBenchAgent, tempDir } from './lib/agentRig.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';

/**
 * A burst of bills through the whole core against a zero-latency emulator, fsync on, one report sink (in
 * memory): jobs per second from the first submit to the last FISCALIZED, the agent process's CPU per
 * receipt (driver included), and store commits and fsyncs per receipt (until every job is REPORTED).
 */

export interface ThroughputBenchOptions {
  jobs: number;
  positions?: number;
}

export interface ThroughputBenchResult {
  jobs: number;
  positions: number;
  jobsPerSecond: number;
  cpuMsPerReceipt: number;
  /** Store transactions per receipt (jobs and outbox share them). */
  commitsPerReceipt: number;
  /** fsyncs SQLite makes per receipt: durable commits plus 2 per WAL checkpoint (docs/storage.md). */
  fsyncsPerReceipt: number;
  commitFsyncsPerReceipt: number;
  checkpointFsyncsPerReceipt: number;
}

export async function benchThroughput(options: ThroughputBenchOptions): Promise<ThroughputBenchResult> {
  const positions = options.positions ?? 10;
  const emulator = await startEmulatorProcess();
  const dir = await tempDir();
  const sink = new RecordingSink('bench');
  const rig = await openBenchAgent({ emulatorPort: emulator.port, dataDir: dir.path, sinks: [sink] });
  try {
    const warm = await rig.agent.intake.submit({
      bill: sampleBill('warm', { positions }),
      trigger: { kind: 'test' },
    });
    await rig.watcher.reached(warm.job.id, 'REPORTED');
    const bills = Array.from({ length: options.jobs }, (_, i) => sampleBill(`tp-${i}`, { positions }));
    const before = rig.agent.storeStats;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const ids: string[] = [];
    for (const bill of bills) {
      ids.push((await rig.agent.intake.submit({ bill, trigger: { kind: 'test' } })).job.id);
    }
    let lastFiscalized = 0;
    for (const id of ids) {
      lastFiscalized = Math.max(lastFiscalized, await rig.watcher.reached(id, 'FISCALIZED', 300_000));
    }
    const used = process.cpuUsage(cpu);
    for (const id of ids) await rig.watcher.reached(id, 'REPORTED', 300_000);
    const after = rig.agent.storeStats;
    const n = options.jobs;
    return {
      jobs: n,
      positions,
      jobsPerSecond: n / ((lastFiscalized - started) / 1000),
      cpuMsPerReceipt: (used.user + used.system) / 1000 / n,
      commitsPerReceipt: (after.commits - before.commits) / n,
      fsyncsPerReceipt: (after.fsyncs - before.fsyncs) / n,
      commitFsyncsPerReceipt: (after.durableCommits - before.durableCommits) / n,
      checkpointFsyncsPerReceipt: (2 * (after.checkpoints - before.checkpoints)) / n,
    };
  } finally {
    await rig.stop();
    await emulator.stop();
    await dir.remove();
  }
}
