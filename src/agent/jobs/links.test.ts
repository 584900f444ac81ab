import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleBill } from '../../../test/support/bills.js';
import { queryPlansOf } from '../../../test/support/queryPlans.js';
import { AgentDatabase } from '../store/database.js';
import { billSummary, type Job, type JobState } from './job.js';
import { JobStore } from './jobStore.js';
import { type JobLinkInput, JobLinks, orderKey } from './links.js';

/** The limits the job store checks in the transaction that writes a job's links (docs/fiscalization.md, "Links"). */

let dir: string;
let db: AgentDatabase;
let jobs: JobStore;
let links: JobLinks;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-links-'));
  db = AgentDatabase.open(join(dir, 'agent.db'), { fsync: false });
  jobs = new JobStore(db);
  links = new JobLinks(db);
});

afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

async function job(
  id: string,
  state: JobState,
  jobLinks: JobLinkInput[] = [],
  operation: Job['operation'] = 'sell',
) {
  const bill = sampleBill(id);
  const now = new Date().toISOString();
  return jobs.create(
    {
      id,
      key: `test/a1/${id}`,
      seq: jobs.nextSeq(),
      bill,
      summary: billSummary(bill),
      operation,
      deviceId: 'kkt',
      state,
      receivedAt: now,
      updatedAt: now,
      trigger: { kind: 'test' },
      attempts: 0,
    },
    jobLinks,
  );
}

const returnOf = (target: string, amountMinor: number, quantityMilli: number): JobLinkInput => ({
  kind: 'return',
  target,
  amountMinor,
  lines: [{ index: 0, position: 0, quantityMilli, amountMinor }],
  limit: { totalMinor: 10_000, positions: [{ name: 'Чай', quantityMilli: 2000 }] },
});

describe('job links', () => {
  it('never returns more than was sold, counting earlier returns; a FAILED return frees its amount', async () => {
    await job('sale', 'FISCALIZED');
    await job('r1', 'RECEIVED', [returnOf('sale', 5000, 1000)], 'sellReturn');
    await expect(job('r2', 'RECEIVED', [returnOf('sale', 5000, 1500)], 'sellReturn')).rejects.toMatchObject({
      code: 'RETURN_EXCEEDS_SALE',
      field: 'positions[0].quantityMilli',
    });
    expect(jobs.get('r2')).toBeUndefined();
    await expect(job('r3', 'RECEIVED', [returnOf('sale', 6000, 500)], 'sellReturn')).rejects.toMatchObject({
      code: 'RETURN_EXCEEDS_SALE',
      field: 'totalMinor',
    });
    await jobs.transition('r1', 'FAILED');
    await job('r4', 'RECEIVED', [returnOf('sale', 10_000, 2000)], 'sellReturn');
    expect(links.to('sale').map((l) => l.jobId)).toEqual(['r1', 'r4']);
  });

  it('offsets no more than the printed advances of the order, less what was offset or returned', async () => {
    const order = orderKey('test', 'a1', 'O-1');
    await job('adv', 'RECEIVED', [{ kind: 'advance', target: order, amountMinor: 3000 }]);
    // The advance is not printed yet: nothing to offset.
    await expect(
      job('f0', 'RECEIVED', [{ kind: 'offset', target: order, amountMinor: 1 }]),
    ).rejects.toMatchObject({
      code: 'OFFSET_EXCEEDS_PREPAID',
    });
    await jobs.transition('adv', 'PRINTING');
    await jobs.transition('adv', 'FISCALIZED');
    await job('f1', 'RECEIVED', [{ kind: 'offset', target: order, amountMinor: 2000 }]);
    await expect(
      job('back', 'RECEIVED', [{ kind: 'advanceReturn', target: order, amountMinor: 1500 }], 'sellReturn'),
    ).rejects.toMatchObject({ code: 'ADVANCE_RETURN_EXCEEDS_PREPAID' });
    await job(
      'back2',
      'RECEIVED',
      [{ kind: 'advanceReturn', target: order, amountMinor: 1000 }],
      'sellReturn',
    );
    expect(links.orderBalance(order)).toEqual({ prepaidMinor: 0, creditMinor: 0 });
    expect(links.countByKind()).toMatchObject({ advance: 1, offset: 1, advanceReturn: 1 });
  });

  it('counts links per kind without walking them: links are never pruned, the state document reads counts', async () => {
    await job('sale', 'REPORTED');
    await job('back', 'RECEIVED', [{ kind: 'return', target: 'sale', amountMinor: 100 }], 'sellReturn');
    let counts: ReturnType<JobLinks['countByKind']> | undefined;
    const plans = queryPlansOf(db, () => {
      counts = links.countByKind();
    });
    expect(counts).toMatchObject({ return: 1, correction: 0 });
    for (const { sql, plan } of plans) expect(plan, sql).not.toMatch(/\bjob_links\b/);
  });

  it('corrects a settlement never receipted once; a printed receipt may be corrected again', async () => {
    await job('lost', 'FAILED');
    await job('c1', 'RECEIVED', [{ kind: 'correction', target: 'lost', amountMinor: 100 }], 'sellCorrection');
    await expect(
      job('c2', 'RECEIVED', [{ kind: 'correction', target: 'lost', amountMinor: 100 }], 'sellCorrection'),
    ).rejects.toMatchObject({ code: 'SETTLEMENT_ALREADY_CORRECTED', field: 'relatesTo.jobId' });
    await jobs.transition('c1', 'FAILED');
    await job('c3', 'RECEIVED', [{ kind: 'correction', target: 'lost', amountMinor: 100 }], 'sellCorrection');

    await job('printed', 'FISCALIZED');
    await job(
      'w1',
      'RECEIVED',
      [{ kind: 'correction', target: 'printed', amountMinor: 1 }],
      'sellCorrection',
    );
    await job(
      'w2',
      'RECEIVED',
      [{ kind: 'correction', target: 'printed', amountMinor: 1 }],
      'sellCorrection',
    );
  });
});
