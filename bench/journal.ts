import { statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { billSummary, type Job } from '../src/agent/jobs/job.js';
import { newJobId } from '../src/agent/jobs/jobId.js';
import { JobStore } from '../src/agent/jobs/jobStore.js';
import { AgentDatabase } from '../src/agent/store/database.js';
import { sampleBill } from '../test/support/bills.js';
import { tempDir } from './lib/agentRig.js';
import { heapAfterGc } from './lib/gc.js';
import { type Distribution, distribution } from './lib/stats.js';

/**
 * The jobs table with 10,000 finished jobs in it: the time to open the store (what start-up pays), the
 * heap that opening keeps, the latency of one committed job (`JobStore.create`, what the intake waits for
 * before it answers) on this machine's disk, and the disk a job costs before and after retention.
 */

export interface JournalBenchOptions {
  /** Jobs already in the store. */
  existingJobs: number;
  /** Commits measured. */
  appends: number;
}

export interface JournalBenchResult {
  existingJobs: number;
  databaseBytes: number;
  openMs: number;
  appendMs: Distribution;
  /** Heap the open store keeps (after a full GC), per finished job in it: ~0 means history is not loaded. */
  heapBytesPerJob: number;
  /** Database bytes per finished job with its bill, and once retention dropped the bill. */
  diskBytesPerJob: number;
  slimDiskBytesPerJob: number;
}

export function benchJob(seq: number, state: Job['state'], positions = 3): Job {
  const bill = sampleBill(`jr-${seq}`, { positions });
  const now = new Date().toISOString();
  return {
    id: newJobId(),
    key: `test/a1/jr-${seq}`,
    seq,
    bill,
    summary: billSummary(bill),
    operation: 'sell',
    deviceId: 'kkt',
    state,
    receivedAt: now,
    updatedAt: now,
    trigger: { kind: 'poll', ref: `cycle-${seq}` },
    attempts: 1,
    printing: { lastDocumentNumberBefore: 1000 + seq, fnSerial: '9960440300123456', startedAt: now },
    fiscal: {
      deviceId: 'kkt',
      deviceKind: 'atol',
      fiscalDocumentNumber: 1001 + seq,
      fiscalSign: '2835937245',
      dateTime: '2026-11-22T10:00:01+03:00',
      dateTimeUtc: '2026-11-22T07:00:01.000Z',
      shiftNumber: 12,
      receiptNumber: String(seq),
      fnNumber: '9960440300123456',
      registrationNumber: '0000000001012345',
      totalMinor: bill.totalMinor,
    },
  };
}

/** The file after a checkpoint: what the rows take on disk, WAL aside. */
function settledBytes(db: AgentDatabase): number {
  db.checkpoint();
  return statSync(db.path).size;
}

/**
 * Retention on a copy of the store: every job loses its bill. Freed pages are reused by later rows, so the
 * figure is the size of a compact copy (`VACUUM INTO`): what the slim rows need, not the file's high-water mark.
 */
async function slimmedBytes(path: string, dir: string): Promise<number> {
  const copyPath = join(dir, 'copy.db');
  const slimPath = join(dir, 'slim.db');
  const original = AgentDatabase.open(path, { fsync: false });
  original.statement(`VACUUM INTO '${copyPath}'`).run();
  original.close();
  const copy = AgentDatabase.open(copyPath, { fsync: false });
  await new JobStore(copy).slimFinished(0, Date.now() + 1000);
  copy.statement(`VACUUM INTO '${slimPath}'`).run();
  copy.close();
  return statSync(slimPath).size;
}

export async function benchJournal(options: JournalBenchOptions): Promise<JournalBenchResult> {
  const dir = await tempDir();
  const path = join(dir.path, 'agent.db');
  try {
    const filling = AgentDatabase.open(path, { fsync: false });
    const empty = settledBytes(filling);
    const jobs = new JobStore(filling);
    for (let seq = 1; seq <= options.existingJobs; seq++) await jobs.create(benchJob(seq, 'REPORTED'));
    const databaseBytes = settledBytes(filling);
    filling.close();
    const slimBytes = await slimmedBytes(path, dir.path);

    const heapBefore = heapAfterGc();
    const opening = performance.now();
    const db = AgentDatabase.open(path, { fsync: true });
    const store = new JobStore(db);
    const openMs = performance.now() - opening;
    const heapBytesPerJob = (heapAfterGc() - heapBefore) / options.existingJobs;
    const appendMs: number[] = [];
    try {
      for (let i = 0; i < options.appends; i++) {
        const job = benchJob(options.existingJobs + 1 + i, 'RECEIVED');
        const started = performance.now();
        await store.create(job);
        appendMs.push(performance.now() - started);
      }
    } finally {
      db.close();
    }
    const perJob = (bytes: number, jobs: number) => (bytes - empty) / jobs;
    return {
      existingJobs: options.existingJobs,
      databaseBytes,
      openMs,
      appendMs: distribution(appendMs),
      heapBytesPerJob,
      diskBytesPerJob: perJob(databaseBytes, options.existingJobs),
      slimDiskBytesPerJob: perJob(slimBytes, options.existingJobs),
    };
  } finally {
    await dir.remove();
  }
}
