import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KktAgentError } from '../../lib/errors.js';
import { AgentDatabase } from '../store/database.js';
import { FailingBillTable } from '../store/failingBillTable.js';
import { FailingBills } from './failingBills.js';

/** The failing bills kept in the store (issue 18.2): what one run learnt, the next one takes up. */

let dir: string;
let db: AgentDatabase;
let nowMs: number;
const now = () => new Date(nowMs);
const SCHEDULE = { firstDelayMs: 60_000, maxDelayMs: 600_000 };
const failure = () => new KktAgentError('BRIDGE_HTTP_STATUS', 'HTTP 500');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-failing-'));
  db = AgentDatabase.open(join(dir, 'agent.db'), { fsync: false });
  nowMs = Date.parse('2026-12-07T10:00:00.000Z');
});

afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

/** A run of the connector `bridge:120`: its failing bills attached to the store. */
function run(connector = 'bridge:120'): FailingBills {
  const bills = new FailingBills(SCHEDULE, now);
  bills.attach(new FailingBillTable(db, connector));
  return bills;
}

/** The database closed and opened again, as a restart does. */
function restart(): void {
  db.close();
  db = AgentDatabase.open(join(dir, 'agent.db'), { fsync: false });
}

describe('failing bills across a restart', () => {
  it('a restart takes up each bill with its failures, its first failure and its next try', () => {
    const first = run();
    first.failed('7001', failure());
    nowMs += 1000;
    first.failed('7002', failure());
    first.failed('7002', failure());
    const before = first.list();
    restart();

    const second = run();
    expect(second.list()).toEqual(before);
    expect(second.list().map((bill) => [bill.billId, bill.failures])).toEqual([
      ['7001', 1],
      ['7002', 2],
    ]);
    expect(second.due('7001')).toBe(false);
    nowMs = Date.parse(second.list()[0]!.nextTryAt);
    expect(second.due('7001')).toBe(true);
    // The next failure goes on from the kept count, with the first failure's time.
    expect(second.failed('7001', failure()).bill).toMatchObject({
      failures: 2,
      since: before[0]!.since,
    });
  });

  it('a bill taken, or no longer listed by the cloud, leaves the store', () => {
    const first = run();
    for (const billId of ['7001', '7002', '7003']) first.failed(billId, failure());
    first.succeeded('7001');
    first.keepOnly(new Set(['7003', '7004']));
    restart();
    expect(
      run()
        .list()
        .map((bill) => bill.billId),
    ).toEqual(['7003']);
  });

  it('each connector keeps its own, and the bills of a connector no longer configured are forgotten', () => {
    run('bridge:120').failed('7001', failure());
    run('oxsystem:shop').failed('s1', failure());
    const commits = db.stats.commits;
    FailingBillTable.keepConnectors(db, ['bridge:120', 'oxsystem:shop']);
    // Nothing to forget: not a write.
    expect(db.stats.commits).toBe(commits);
    FailingBillTable.keepConnectors(db, ['bridge:120']);
    restart();
    expect(
      run('bridge:120')
        .list()
        .map((bill) => bill.billId),
    ).toEqual(['7001']);
    expect(run('oxsystem:shop').list()).toEqual([]);
  });

  it('the store keeps no more than the thousand remembered: the oldest leave it too', () => {
    const first = run();
    for (let i = 0; i < 1003; i++) first.failed(`b${i}`, failure());
    restart();
    const second = run();
    expect(second.size).toBe(1000);
    expect(second.due('b0')).toBe(true);
    expect(second.due('b1002')).toBe(false);
  });

  it('a next try that does not read as a time is due at once (never a bill that waits forever)', () => {
    new FailingBillTable(db, 'bridge:120').put({
      billId: '7001',
      code: 'BRIDGE_HTTP_STATUS',
      message: 'HTTP 500',
      since: '2026-12-07T09:00:00.000Z',
      failures: 3,
      nextTryAt: 'tomorrow',
    });
    expect(run().due('7001')).toBe(true);
  });
});
