import { copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { billSummary, type Job } from '../src/agent/jobs/job.js';
import { newJobId } from '../src/agent/jobs/jobId.js';
import { JobStore } from '../src/agent/jobs/jobStore.js';
import { sampleBill } from '../test/support/bills.js';
import { tempDir } from './lib/agentRig.js';
import { heapAfterGc } from './lib/gc.js';
import { type Distribution, distribution } from './lib/stats.js';

/**
 * The job journal with 10,000 jobs in it: the time to open (load) it, and the latency of one append with
 * its fdatasync (`JobStore.create`, what the intake waits for before it answers), on this machine's disk.
 */

export interface JournalBenchOptions {
  /** Jobs already in the journal. */
  existingJobs: number;
  /** Appends measured. */
  appends: number;
}

export interface JournalBenchResult {
  existingJobs: number;
  journalBytes: number;
  openMs: number;
  appendMs: Distribution;
  /** Heap each loaded job keeps (after a full GC), with its bill. */
  heapBytesPerJob: number;
  /** The same once retention has slimmed the terminal jobs to their deduplication record. */
  slimHeapBytesPerJob: number;
}

function jobFor(seq: number, state: Job['state']): Job {
  const bill = sampleBill(`jr-${seq}`, { positions: 3 });
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
    trigger: { kind: 'test' },
    attempts: 0,
  };
}

/**
 * Retention (the nightly compaction) slims terminal jobs to their deduplication record: the heap a bill
 * reported long ago still costs. Measured on a copy of the REPORTED-only journal, before any appends.
 */
async function slimHeapPerJob(path: string, copyPath: string, jobs: number): Promise<number> {
  await copyFile(path, copyPath);
  const slimming = await JobStore.open(copyPath, { fsync: false });
  await slimming.compact(0);
  await slimming.close();
  const before = heapAfterGc();
  const slim = await JobStore.open(copyPath, { fsync: false });
  const perJob = (heapAfterGc() - before) / jobs;
  await slim.close();
  return perJob;
}

export async function benchJournal(options: JournalBenchOptions): Promise<JournalBenchResult> {
  const dir = await tempDir();
  const path = join(dir.path, 'jobs.jsonl');
  try {
    const filling = await JobStore.open(path, { fsync: false });
    for (let seq = 1; seq <= options.existingJobs; seq++) await filling.create(jobFor(seq, 'REPORTED'));
    await filling.close();
    const journalBytes = (await stat(path)).size;
    const slimHeapBytesPerJob = await slimHeapPerJob(
      path,
      join(dir.path, 'slim.jsonl'),
      options.existingJobs,
    );

    const heapBefore = heapAfterGc();
    const opening = performance.now();
    const store = await JobStore.open(path, { fsync: true });
    const openMs = performance.now() - opening;
    const heapBytesPerJob = (heapAfterGc() - heapBefore) / options.existingJobs;
    const appendMs: number[] = [];
    try {
      for (let i = 0; i < options.appends; i++) {
        const job = jobFor(options.existingJobs + 1 + i, 'RECEIVED');
        const started = performance.now();
        await store.create(job);
        appendMs.push(performance.now() - started);
      }
    } finally {
      await store.close();
    }
    return {
      existingJobs: options.existingJobs,
      journalBytes,
      openMs,
      appendMs: distribution(appendMs),
      heapBytesPerJob,
      slimHeapBytesPerJob,
    };
  } finally {
    await dir.remove();
  }
}
