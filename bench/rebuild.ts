import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { fnReceiptHistory } from '../src/agent/devices/atolCommon/fnHistory.js';
import { billToAtolReceipt } from '../src/agent/devices/atolCommon/receiptMapping.js';
import type { Job } from '../src/agent/jobs/job.js';
import { jobIdFor } from '../src/agent/jobs/jobId.js';
import { Recovery } from '../src/agent/jobs/recovery.js';
import { AgentDatabase } from '../src/agent/store/database.js';
import { Kkt } from '../src/drivers/atol/kkt.js';
import { TcpLink } from '../src/drivers/atol/transport/tcpLink.js';
import { EMULATOR_EXTRA_TAX_BYTES } from '../src/emulators/atol/index.js';
import { sampleBill } from '../test/support/bills.js';
import { BENCH_TZ } from './lib/agentRig.js';
import { startEmulatorProcess } from './lib/emulatorProcess.js';

/**
 * Rebuilding a lost store from the register (docs/fiscalization.md §7): `receipts` receipts of ours (3
 * positions each, marker in tag 1192) are printed on a zero-latency emulator in another process, then a
 * new store's `Recovery` reads the FN back from its last document through the driver, as the agent does on
 * a fresh SD card. Documents per second and the round trips per document come from `Kkt.stats`.
 */

export interface RebuildBenchResult {
  receipts: number;
  documentsRead: number;
  receiptsFound: number;
  wallMs: number;
  documentsPerSecond: number;
  commandsPerDocument: number;
  roundTripsPerDocument: number;
  bytesReadPerDocument: number;
}

export async function benchRebuild(options: { receipts: number }): Promise<RebuildBenchResult> {
  const emulator = await startEmulatorProcess();
  const kkt = new Kkt({
    link: () => new TcpLink({ host: '127.0.0.1', port: emulator.port }),
    timeZone: BENCH_TZ,
    reconnect: { enabled: false },
    taxBytes: EMULATOR_EXTRA_TAX_BYTES,
  });
  const dir = await mkdtemp(join(tmpdir(), 'kkt-bench-rebuild-'));
  const db = AgentDatabase.open(join(dir, 'agent.db'));
  try {
    await kkt.connect();
    await kkt.openShift({ name: 'Кассир' });
    for (let i = 0; i < options.receipts; i++) {
      const bill = sampleBill(`rebuild-${i}`, { positions: 3 });
      const job = { id: jobIdFor(bill), operation: 'sell' } as Job;
      const { receipt } = billToAtolReceipt(job, bill, {
        defaults: { operator: { name: 'Кассир' } },
        settlementDate: '2026-06-01',
      });
      await kkt.sell(receipt);
    }
    const recovery = new Recovery(db, pino({ level: 'silent' }));
    recovery.register(['kkt']);
    const before = kkt.stats!;
    const started = performance.now();
    await recovery.prepare('kkt', 'history', fnReceiptHistory({ id: 'kkt', kind: 'atol' }, kkt));
    const wallMs = performance.now() - started;
    const after = kkt.stats!;
    const device = recovery.status().devices[0]!;
    const documents = device.documentsRead;
    return {
      receipts: options.receipts,
      documentsRead: documents,
      receiptsFound: device.receiptsFound,
      wallMs,
      documentsPerSecond: (documents * 1000) / wallMs,
      commandsPerDocument: (after.transport.commands - before.transport.commands) / documents,
      roundTripsPerDocument: (after.transport.roundTrips - before.transport.roundTrips) / documents,
      bytesReadPerDocument: (after.bytesRead - before.bytesRead) / documents,
    };
  } finally {
    db.close();
    await kkt.close();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
