import { performance } from 'node:perf_hooks';
import { sampleBill } from '../test/support/bills.js';
import { openBenchAgent, tempDir } from './lib/agentRig.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';
import { type Distribution, distribution } from './lib/stats.js';

/**
 * The agent's own cost per receipt. One 10-position bill at a time (the register idle, nothing queued):
 * overhead = (intake.submit called → FISCALIZED journaled) − (time inside the device's preparePrint and
 * print). What remains is validation, three journal appends (RECEIVED, PRINTING, FISCALIZED) with their
 * fsyncs, waking the fiscalizer and the bookkeeping between. Run with fsync on (production) and off (the
 * CPU and scheduling part alone).
 */

export interface OverheadBenchOptions {
  receipts: number;
  fsync: boolean;
}

export interface OverheadBenchResult {
  receipts: number;
  fsync: boolean;
  overheadMs: Distribution;
  deviceMs: Distribution;
}

export async function benchAgentOverhead(options: OverheadBenchOptions): Promise<OverheadBenchResult> {
  const emulator = await startEmulatorProcess();
  const dir = await tempDir();
  const rig = await openBenchAgent({ emulatorPort: emulator.port, dataDir: dir.path, fsync: options.fsync });
  try {
    const overhead: number[] = [];
    const device: number[] = [];
    // Warm-up: the first receipt also opens the shift.
    for (let i = 0; i < 3; i++) {
      const { job } = await rig.agent.intake.submit({
        bill: sampleBill(`warm-${i}`, { positions: 10 }),
        trigger: { kind: 'test' },
      });
      await rig.watcher.reached(job.id, 'REPORTED');
    }
    for (let i = 0; i < options.receipts; i++) {
      const bill = sampleBill(`ovh-${i}`, { positions: 10 });
      const deviceBefore = rig.device.deviceMs;
      const started = performance.now();
      const { job } = await rig.agent.intake.submit({ bill, trigger: { kind: 'test' } });
      const fiscalizedAt = await rig.watcher.reached(job.id, 'FISCALIZED');
      const deviceMs = rig.device.deviceMs - deviceBefore;
      overhead.push(fiscalizedAt - started - deviceMs);
      device.push(deviceMs);
      // Let the outbox bookkeeping (REPORTED) finish so it does not run into the next measurement.
      await rig.watcher.reached(job.id, 'REPORTED');
    }
    return {
      receipts: options.receipts,
      fsync: options.fsync,
      overheadMs: distribution(overhead),
      deviceMs: distribution(device),
    };
  } finally {
    await rig.stop();
    await emulator.stop();
    await dir.remove();
  }
}
