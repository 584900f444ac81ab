import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleBill } from '../../../test/support/bills.js';
import { AgentDatabase } from '../store/database.js';
import { JOB_STATE_SQL } from '../store/schema.js';
import { StoreRecordError } from '../store/storeErrors.js';
import { billSummary, JOB_STATES, type Job, type JobState } from './job.js';
import { JobStore } from './jobStore.js';

let dir: string;
let db: AgentDatabase;
let jobs: JobStore;

function reopen(): JobStore {
  db.close();
  db = AgentDatabase.open(join(dir, 'agent.db'), { fsync: false });
  jobs = new JobStore(db);
  return jobs;
}

function newJob(billId: string, overrides: Partial<Job> = {}): Job {
  const bill = sampleBill(billId);
  const now = new Date().toISOString();
  return {
    id: `job-${billId}`,
    key: `test/a1/${billId}`,
    seq: jobs.nextSeq(),
    bill,
    summary: billSummary(bill),
    operation: 'sell',
    deviceId: 'kkt',
    state: 'RECEIVED',
    receivedAt: now,
    updatedAt: now,
    trigger: { kind: 'test' },
    attempts: 0,
    ...overrides,
  };
}

/** Through RECEIVED → PRINTING → FISCALIZED → REPORTED. */
async function reported(billId: string): Promise<Job> {
  const job = await jobs.create(newJob(billId));
  await jobs.transition(job.id, 'PRINTING', { attempts: 1, printing: { startedAt: job.receivedAt } });
  await jobs.transition(job.id, 'FISCALIZED', {
    fiscal: {
      deviceId: 'kkt',
      deviceKind: 'atol',
      fiscalDocumentNumber: 7,
      dateTime: '2026-11-22T10:00:00+03:00',
      dateTimeUtc: '2026-11-22T07:00:00.000Z',
      totalMinor: job.bill!.totalMinor,
    },
  });
  return jobs.transition(job.id, 'REPORTED');
}

const sqlCounts = () =>
  Object.fromEntries(
    (
      db.statement('SELECT state, count(*) AS n FROM jobs GROUP BY state').all() as Array<{
        state: JobState;
        n: number;
      }>
    ).map((row) => [row.state, row.n]),
  );

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-jobs-'));
  db = AgentDatabase.open(join(dir, 'agent.db'), { fsync: false });
  jobs = new JobStore(db);
});

afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('JobStore', () => {
  it('lists the same states as the table’s CHECK constraint', () => {
    expect([...JOB_STATES]).toEqual([...JOB_STATE_SQL]);
  });

  it('finds a job by its bill, also after a reopen, and refuses a second job for the same bill', async () => {
    const job = await jobs.create(newJob('b1'));
    expect(jobs.findByBill({ source: 'test', account: 'a1', billId: 'b1' })?.id).toBe(job.id);
    reopen();
    expect(jobs.findByBill(job.summary)).toEqual(job);
    const commits = db.stats.commits;
    await expect(jobs.create(newJob('b1', { id: 'job-other' }))).rejects.toMatchObject({
      code: 'JOB_DUPLICATE',
    });
    expect(db.stats.commits).toBe(commits);
  });

  it('holds the deduplication in the table itself: UNIQUE (source, account, bill id)', async () => {
    await jobs.create(newJob('b1'));
    expect(() =>
      db
        .statement(
          `INSERT INTO jobs (seq, id, source, account, bill_id, state, device_id, updated_at, job)
           VALUES (99, 'sneaky', 'test', 'a1', 'b1', 'RECEIVED', 'kkt', 'now', '{}')`,
        )
        .run(),
    ).toThrow(/UNIQUE constraint failed: jobs.source, jobs.account, jobs.bill_id/);
  });

  it('moves jobs only along the allowed transitions, and only from the state the caller decided on', async () => {
    const job = await jobs.create(newJob('b1'));
    await expect(jobs.transition(job.id, 'REPORTED')).rejects.toMatchObject({
      code: 'JOB_ILLEGAL_TRANSITION',
    });
    await expect(jobs.transition(job.id, 'PRINTING', {}, ['BLOCKED'])).rejects.toMatchObject({
      code: 'JOB_ILLEGAL_TRANSITION',
    });
    expect(jobs.get(job.id)?.state).toBe('RECEIVED');
    const printing = await jobs.transition(job.id, 'PRINTING', { attempts: 1 }, ['RECEIVED']);
    expect(printing).toMatchObject({ state: 'PRINTING', attempts: 1 });
    expect(reopen().get(job.id)).toEqual(printing);
  });

  it('keeps unfinished jobs in memory and reads finished ones from the database', async () => {
    const done = await reported('b1');
    const waiting = await jobs.create(newJob('b2'));
    reopen();
    const unfinished = (jobs as unknown as { unfinished: Map<string, Job> }).unfinished;
    expect([...unfinished.keys()]).toEqual([waiting.id]);
    expect(jobs.get(done.id)).toEqual(done);
    expect(jobs.inState('REPORTED', 'RECEIVED').map((job) => job.id)).toEqual([done.id, waiting.id]);
  });

  it('counts per state with triggers that agree with the rows', async () => {
    for (let i = 0; i < 5; i++) await reported(`r${i}`);
    const failed = await jobs.create(newJob('f1'));
    await jobs.transition(failed.id, 'FAILED', {
      failure: { code: 'X', message: 'no', at: failed.receivedAt, retryable: false },
    });
    await jobs.create(newJob('q1'));
    const counts = jobs.countByState();
    expect(counts).toMatchObject({ REPORTED: 5, FAILED: 1, RECEIVED: 1, PRINTING: 0 });
    expect(Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0))).toEqual(sqlCounts());
  });

  it('commits a write effect with the job, and rolls both back when the effect fails', async () => {
    const seen: string[] = [];
    jobs.on('changed', (job) => seen.push(job.state));
    jobs.onWrite((job) => {
      db.statement("INSERT INTO imported_journals (file, at, records) VALUES (?, 'now', 0)").run(
        `${job.id} ${job.state}`,
      );
      if (job.state === 'PRINTING') throw new Error('the effect failed');
    });
    const job = await jobs.create(newJob('b1'));
    await expect(jobs.transition(job.id, 'PRINTING')).rejects.toThrow('the effect failed');
    expect(jobs.get(job.id)?.state).toBe('RECEIVED');
    expect(reopen().get(job.id)?.state).toBe('RECEIVED');
    expect(db.statement('SELECT file FROM imported_journals').pluck().all()).toEqual([`${job.id} RECEIVED`]);
    expect(seen).toEqual(['RECEIVED']);
  });

  it('lists the newest jobs without their bills', async () => {
    for (let i = 0; i < 4; i++) await jobs.create(newJob(`b${i}`));
    const latest = jobs.latest(2);
    expect(latest.map((job) => job.summary.billId)).toEqual(['b2', 'b3']);
    expect(latest.every((job) => job.bill === undefined)).toBe(true);
    expect(jobs.latest(10, 'RECEIVED')).toHaveLength(4);
  });

  it('retention drops the bills of old finished jobs only, and deduplication still finds them', async () => {
    const old = await reported('old');
    const open = await jobs.create(newJob('open'));
    const result = await jobs.slimFinished(0, Date.now() + 1000, 1);
    expect(result).toEqual({ slimmed: 1 });
    reopen();
    const slim = jobs.findByBill(old.summary)!;
    const { bill: _bill, printing: _printing, ...kept } = old;
    expect(slim).toEqual(kept);
    expect(slim.fiscal).toMatchObject({ fiscalDocumentNumber: 7, dateTimeUtc: '2026-11-22T07:00:00.000Z' });
    expect(jobs.get(open.id)?.bill).toEqual(open.bill);
    expect(await jobs.slimFinished(0, Date.now() + 1000)).toEqual({ slimmed: 0 });
  });

  it('refuses to store a job of the wrong shape', async () => {
    await expect(jobs.create({ ...newJob('b1'), attempts: -1 })).rejects.toMatchObject({
      code: 'JOB_INVALID',
    });
    await expect(jobs.create({ ...newJob('b2'), key: 'test/a1/other' })).rejects.toMatchObject({
      code: 'JOB_INVALID',
    });
  });

  it('names the table and row of a stored record with a wrong value', async () => {
    const done = await reported('b1');
    db.statement("UPDATE jobs SET job = json_set(job, '$.attempts', 'many') WHERE id = ?").run(done.id);
    expect(() => jobs.get(done.id)).toThrow(StoreRecordError);
    expect(() => jobs.get(done.id)).toThrow(/invalid record in jobs, row 1: attempts:/);
    const waiting = await jobs.create(newJob('b2'));
    db.statement("UPDATE jobs SET job = json_set(job, '$.operation', 'refund') WHERE id = ?").run(waiting.id);
    expect(() => reopen()).toThrow(/invalid record in jobs, row 2: operation:/);
  });
});
