import { performance } from 'node:perf_hooks';
import { billToAtolReceipt } from '../src/agent/devices/atolCommon/receiptMapping.js';
import type { Job } from '../src/agent/jobs/job.js';
import { newJobId } from '../src/agent/jobs/jobId.js';
import { Kkt } from '../src/drivers/atol/kkt.js';
import { TcpLink } from '../src/drivers/atol/transport/tcpLink.js';
import { EMULATOR_EXTRA_TAX_BYTES } from '../src/emulators/atol/index.js';
import { sampleBill } from '../test/support/bills.js';
import { BENCH_TZ } from './lib/agentRig.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';
import { heapAfterGc } from './lib/gc.js';

/**
 * The driver alone: `Kkt.sell` of a 10-position receipt (as the agent maps a bill: operator, marker) against
 * a zero-latency emulator in another process (an FFD 1.2 register: 2108 is written per position). Frames,
 * round trips and bytes come from `Kkt.stats`; CPU time is
 * this process's `process.cpuUsage()`, which holds only the driver's work (and Node's own). The heap a
 * series of receipts leaves behind (after a full GC, the link still open) shows what the driver keeps.
 */

export interface DriverBenchOptions {
  receipts: number;
  positions?: number;
}

export interface DriverBenchResult {
  receipts: number;
  positions: number;
  commandsPerReceipt: number;
  /** Commands added without a kept result (C1 flags 0): no Ack, no answer read. */
  postedCommandsPerReceipt: number;
  roundTripsPerReceipt: number;
  /** Frames the host wrote (Add, Ack, Req, Abort, resends). */
  hostFramesPerReceipt: number;
  /** Frames the register wrote (replies and async results). */
  deviceFramesPerReceipt: number;
  bytesWrittenPerReceipt: number;
  bytesReadPerReceipt: number;
  cpuMsPerReceipt: number;
  wallMsPerReceipt: number;
  /** Heap still in use after a full GC, per receipt, while the link stays up (0 when nothing is kept). */
  heapRetainedBytesPerReceipt: number;
}

function receiptFor(index: number, positions: number) {
  const bill = sampleBill(`drv-${index}`, { positions });
  const job = { id: newJobId(), operation: 'sell' } as Job;
  // A fixed settlement date: the bench measures the wire, not the calendar.
  return billToAtolReceipt(job, bill, {
    defaults: { operator: { name: 'Кассир' } },
    settlementDate: '2026-06-01',
  }).receipt;
}

export async function benchDriver(options: DriverBenchOptions): Promise<DriverBenchResult> {
  const positions = options.positions ?? 10;
  const emulator = await startEmulatorProcess();
  const kkt = new Kkt({
    link: () => new TcpLink({ host: '127.0.0.1', port: emulator.port }),
    timeZone: BENCH_TZ,
    reconnect: { enabled: false },
    taxBytes: EMULATOR_EXTRA_TAX_BYTES,
  });
  try {
    await kkt.connect();
    await kkt.openShift({ name: 'Кассир' });
    for (let i = 0; i < 5; i++) await kkt.sell(receiptFor(-i - 1, positions));
    const receipts = Array.from({ length: options.receipts }, (_, i) => receiptFor(i, positions));
    const heapBefore = heapAfterGc();
    const before = kkt.stats!;
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (const receipt of receipts) await kkt.sell(receipt);
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const after = kkt.stats!;
    const heapAfter = heapAfterGc();
    const n = options.receipts;
    return {
      receipts: n,
      positions,
      commandsPerReceipt: (after.transport.commands - before.transport.commands) / n,
      postedCommandsPerReceipt: (after.transport.postedCommands - before.transport.postedCommands) / n,
      roundTripsPerReceipt: (after.transport.roundTrips - before.transport.roundTrips) / n,
      hostFramesPerReceipt: (after.transport.framesSent - before.transport.framesSent) / n,
      deviceFramesPerReceipt: (after.transport.framesReceived - before.transport.framesReceived) / n,
      bytesWrittenPerReceipt: (after.bytesWritten - before.bytesWritten) / n,
      bytesReadPerReceipt: (after.bytesRead - before.bytesRead) / n,
      cpuMsPerReceipt: (used.user + used.system) / 1000 / n,
      wallMsPerReceipt: wallMs / n,
      heapRetainedBytesPerReceipt: Math.max(0, heapAfter - heapBefore) / n,
    };
  } finally {
    await kkt.close();
    await emulator.stop();
  }
}
