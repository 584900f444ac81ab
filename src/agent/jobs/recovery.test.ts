import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleBill } from '../../../test/support/bills.js';
import { ScriptedHistory } from '../../../test/support/scriptedHistory.js';
import { AgentDatabase } from '../store/database.js';
import { readStoreOrigin, writeStoreOrigin } from '../store/storeOrigin.js';
import type { RecoveryConfig } from './config.js';
import { billKeyString, billSummary, type Job } from './job.js';
import { jobIdFor } from './jobId.js';
import { JobStore } from './jobStore.js';
import { Recovery, RegisterChangedError } from './recovery.js';

const logger = pino({ level: 'silent' });
let dir: string;
let db: AgentDatabase;
let jobs: JobStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-recovery-'));
  db = AgentDatabase.open(join(dir, 'agent.db'), { fsync: false });
  jobs = new JobStore(db);
});

afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

function recovery(config: Partial<RecoveryConfig> = {}, devices = ['kkt']): Recovery {
  const r = new Recovery(db, logger, config);
  r.register(devices);
  return r;
}

/** A RECEIVED job as the intake makes it: its id is its bill's marker. */
async function received(billId: string, deviceId = 'kkt'): Promise<Job> {
  const bill = sampleBill(billId, { positions: 2 });
  const now = new Date().toISOString();
  return jobs.create({
    id: jobIdFor(bill),
    key: billKeyString(bill),
    seq: jobs.nextSeq(),
    bill,
    summary: billSummary(bill),
    operation: 'sell',
    deviceId,
    state: 'RECEIVED',
    receivedAt: now,
    updatedAt: now,
    trigger: { kind: 'test' },
    attempts: 0,
  });
}

describe('a rebuild on a new store', () => {
  it('reads back to the opening of the previous shift and 48 h, records our receipts, then stops', async () => {
    const history = new ScriptedHistory();
    for (let day = 0; day < 5; day++) history.addDay(day, 3);
    const job = await received('b1');
    const printed = history.addReceipt(job, 4 * 24 + 13);
    const rebuild = recovery();
    expect(rebuild.rebuilding).toBe(true);
    await rebuild.prepare('kkt', 'history', history);

    // 5 days × 5 documents + ours (hour 109): back from 26 past the opening of day 3's shift (16, the second
    // shift back, 37 h before) to day 2's shift report (15, hour 60): the first document 48 h + before.
    expect(history.reads[0]).toBe(26);
    const stoppedAt = history.reads.at(-1)!;
    expect(history.documents[stoppedAt - 1]!.kind).toBe('shift-close');
    expect(stoppedAt).toBe(15);
    const status = rebuild.status();
    expect(status).toMatchObject({ origin: 'new', rebuild: 'done', receipts: { found: 1, taken: 0 } });
    expect(status.devices[0]).toMatchObject({
      phase: 'done',
      mode: 'rebuild',
      documentsRead: 12,
      receiptsFound: 1,
      complete: false,
      coveredSince: history.documents[14]!.dateTime,
    });
    expect(rebuild.horizon()).toEqual({ coveredSince: history.documents[14]!.dateTime });
    expect(readStoreOrigin(db).rebuild).toBe('done');
    expect(rebuild.claim(job)).toMatchObject({
      kind: 'match',
      receipt: { documentNumber: printed.documentNumber },
    });
  });

  it('reads every document of a young FN and then says nothing was missed (no horizon)', async () => {
    const history = new ScriptedHistory();
    history.addDay(0, 4);
    const rebuild = recovery();
    await rebuild.prepare('kkt', 'history', history);
    expect(history.reads).toEqual([6, 5, 4, 3, 2, 1]);
    expect(rebuild.status().devices[0]).toMatchObject({ complete: true, documentsRead: 6 });
    expect(rebuild.horizon()).toBeUndefined();
  });

  it('goes deeper when a day holds more than the depth: hours and shifts must both be covered', async () => {
    const history = new ScriptedHistory();
    // One shift that has been open for four days (no Z), receipts all along.
    history.add('shift-open', 0);
    for (let hour = 1; hour <= 96; hour += 2) history.add('receipt', hour);
    const rebuild = recovery({ depthHours: 24, shifts: 1 });
    await rebuild.prepare('kkt', 'history', history);
    // 24 h back reached long before the one shift's opening, which is document 1.
    expect(history.reads.at(-1)).toBe(1);
    expect(rebuild.status().devices[0]!.complete).toBe(true);
  });

  it('stops at maxDocuments and then knows from when it saw everything', async () => {
    const history = new ScriptedHistory();
    for (let day = 0; day < 3; day++) history.addDay(day, 20);
    const rebuild = recovery({ maxDocuments: 10 });
    await rebuild.prepare('kkt', 'history', history);
    expect(history.reads).toHaveLength(10);
    expect(rebuild.horizon()?.coveredSince).toBe(history.documents[history.last - 10]!.dateTime);
  });

  it('resumes an interrupted read where it stopped, reading no document twice', async () => {
    const history = new ScriptedHistory();
    history.addDay(0, 8);
    history.failOnceAt = 4;
    const rebuild = recovery();
    await expect(rebuild.prepare('kkt', 'history', history)).rejects.toThrow('went away');
    expect(rebuild.status().devices[0]).toMatchObject({ phase: 'reading', error: 'the register went away' });
    expect(rebuild.rebuilding).toBe(true);
    await rebuild.prepare('kkt', 'history', history);
    expect(history.reads).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(rebuild.status().devices[0]).toMatchObject({ phase: 'done', documentsRead: 10 });
  });

  it('holds a device that cannot be read back until a technician confirms it', async () => {
    const rebuild = recovery({}, ['smartx', 'printer']);
    await rebuild.prepare('smartx', 'none', undefined);
    await rebuild.prepare('printer', 'own-records', undefined);
    await rebuild.whenRebuilt();
    expect(rebuild.held('smartx')).toMatch(/kkt-agent recover --confirm smartx/);
    expect(rebuild.held('printer')).toBeUndefined();
    expect(() => rebuild.confirm('printer', 'cli:tech')).toThrow(/not waiting for a confirmation/);
    expect(rebuild.confirm('smartx', 'cli:tech')).toMatchObject({
      phase: 'confirmed',
      confirmedBy: 'cli:tech',
    });
    expect(rebuild.held('smartx')).toBeUndefined();
    // It stays confirmed across a restart.
    expect(recovery({}, ['smartx']).held('smartx')).toBeUndefined();
  });

  it('does not hold an unreadable device when the config says so', async () => {
    const rebuild = recovery({ holdUnreadable: false }, ['smartx']);
    await rebuild.prepare('smartx', 'none', undefined);
    expect(rebuild.held('smartx')).toBeUndefined();
    expect(rebuild.status().devices[0]).toMatchObject({ phase: 'confirmed' });
  });

  it('waits for every device before the store counts as rebuilt', async () => {
    const rebuild = recovery({}, ['kkt', 'kkt2']);
    const history = new ScriptedHistory();
    history.addDay(0, 1);
    await rebuild.prepare('kkt', 'history', history);
    expect(readStoreOrigin(db).rebuild).toBe('pending');
    let rebuilt = false;
    void rebuild.whenRebuilt().then(() => {
      rebuilt = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(rebuilt).toBe(false);
    // A crash here: the next start reads only kkt2 afresh (kkt's rebuild is recorded).
    const again = recovery({}, ['kkt', 'kkt2']);
    expect(again.rebuilding).toBe(true);
    const second = new ScriptedHistory({ fnSerial: '2' });
    second.addDay(0, 1);
    history.reads = [];
    await again.prepare('kkt', 'history', history);
    expect(history.reads).toEqual([]);
    await again.prepare('kkt2', 'history', second);
    await again.whenRebuilt();
    expect(readStoreOrigin(db).rebuild).toBe('done');
  });
});

describe('catching up on a trusted store', () => {
  async function trusted(): Promise<Recovery> {
    writeStoreOrigin(db, { origin: 'upgraded', rebuild: 'not-needed', at: new Date().toISOString() });
    return recovery();
  }

  it('starts at the FN as it finds it, then reads only the documents made after', async () => {
    const history = new ScriptedHistory();
    history.addDay(0, 5);
    const first = await trusted();
    await first.prepare('kkt', 'history', history);
    expect(history.reads).toEqual([]);
    // While the agent was away: a Z report, a new shift, a receipt of ours the store lost.
    const job = await received('lost');
    history.addDay(1, 0);
    history.addReceipt(job, 25);
    const next = recovery();
    await next.prepare('kkt', 'history', history);
    expect(history.reads).toEqual([10, 9, 8]);
    expect(next.status().devices[0]).toMatchObject({ mode: 'gap', receiptsFound: 1, documentsRead: 3 });
    expect(next.claim(job).kind).toBe('match');
    history.reads = [];
    await recovery().prepare('kkt', 'history', history);
    expect(history.reads).toEqual([]);
  });

  it('moves the watermark with what the store learns in a job write (the anchor, the receipt made)', async () => {
    const history = new ScriptedHistory();
    history.addDay(0, 2);
    const r = await trusted();
    await r.prepare('kkt', 'history', history);
    const job = await received('anchored');
    const printing = await jobs.transition(job.id, 'PRINTING', {
      printing: { lastDocumentNumberBefore: 4, fnSerial: history.fnSerial, startedAt: job.receivedAt },
    });
    db.write('note', () => r.noteWithin(printing));
    history.addReceipt(job, 13);
    const fiscalized = await jobs.transition(job.id, 'FISCALIZED', {
      fiscal: history.documents.at(-1)!.receipt!.fiscal,
    });
    db.write('note', () => r.noteWithin(fiscalized));
    expect(r.receipts.watermark('kkt')).toMatchObject({ fnSerial: history.fnSerial, documentNumber: 5 });
    await recovery().prepare('kkt', 'history', history);
    expect(history.reads).toEqual([]);
  });

  it('reads a replaced FN from its first document', async () => {
    const history = new ScriptedHistory();
    history.addDay(0, 9);
    await (await trusted()).prepare('kkt', 'history', history);
    const replaced = new ScriptedHistory({ fnSerial: '7281440500999999' });
    replaced.addDay(0, 1);
    const second = recovery();
    await second.prepare('kkt', 'history', replaced);
    expect(replaced.reads).toEqual([3, 2, 1]);
    // The register behind the link is not the one the store knew: status names the FN it knew.
    expect(second.status().devices[0]).toMatchObject({
      fnSerial: replaced.fnSerial,
      previousFnSerial: history.fnSerial,
    });
    expect(recovery().receipts.watermark('kkt')).toEqual({
      fnSerial: replaced.fnSerial,
      documentNumber: 3,
      registerSerial: history.registerSerial,
    });
  });
});

describe('another register at the device’s address', () => {
  async function knownRegister(): Promise<ScriptedHistory> {
    writeStoreOrigin(db, { origin: 'upgraded', rebuild: 'not-needed', at: new Date().toISOString() });
    const history = new ScriptedHistory();
    history.addDay(0, 4);
    await recovery().prepare('kkt', 'history', history);
    return history;
  }

  it('blocks the device naming both registers, reads nothing, and takes the new one only when a technician confirms', async () => {
    const known = await knownRegister();
    const job = await received('elsewhere');
    const other = new ScriptedHistory({ fnSerial: '7281440500999999', registerSerial: '00555000000777' });
    other.addDay(0, 1);
    other.addReceipt(job, 3);
    const r = recovery();
    const blocked = await r.prepare('kkt', 'history', other).catch((error: unknown) => error);
    expect(blocked).toBeInstanceOf(RegisterChangedError);
    expect(blocked).toMatchObject({
      code: 'RECOVERY_REGISTER_CHANGED',
      details: {
        device: 'kkt',
        was: { registerSerial: known.registerSerial, fnSerial: known.fnSerial },
        now: { registerSerial: '00555000000777', fnSerial: '7281440500999999' },
      },
    });
    expect((blocked as Error).message).toContain('kkt-agent recover --confirm kkt');
    expect(other.reads).toEqual([]);
    // The old register's watermark is kept as it was, and the other FN's receipt is not matched.
    expect(r.receipts.watermark('kkt')).toMatchObject({ fnSerial: known.fnSerial, documentNumber: 6 });
    expect(r.claim(job).kind).toBe('none');
    expect(r.status().devices[0]).toMatchObject({
      phase: 'blocked',
      registerSerial: '00555000000777',
      previousRegisterSerial: known.registerSerial,
    });
    expect(r.changedRegisterAlerts()).toHaveLength(1);

    r.confirm('kkt', 'cli:tech');
    expect(r.changedRegisterAlerts()).toEqual([]);
    await r.prepare('kkt', 'history', other);
    expect(other.reads).toEqual([4, 3, 2, 1]);
    expect(r.claim(job).kind).toBe('match');
    expect(recovery().receipts.watermark('kkt')).toEqual({
      fnSerial: other.fnSerial,
      documentNumber: 4,
      registerSerial: '00555000000777',
    });
  });

  it('lets the device go on when the register it knew is put back, without a technician', async () => {
    const known = await knownRegister();
    const other = new ScriptedHistory({ fnSerial: '7281440500999999', registerSerial: '00555000000777' });
    other.addDay(0, 1);
    const r = recovery();
    await expect(r.prepare('kkt', 'history', other)).rejects.toBeInstanceOf(RegisterChangedError);
    await r.prepare('kkt', 'history', known);
    expect(r.changedRegisterAlerts()).toEqual([]);
    expect(r.status().devices[0]).toMatchObject({ phase: 'done', registerSerial: known.registerSerial });
    expect(() => r.confirm('kkt', 'cli:tech')).toThrow(/not waiting for a confirmation/);
  });

  it('blocks on another FN when the register does not tell its serial, and names its register on a watermark of an older version', async () => {
    writeStoreOrigin(db, { origin: 'upgraded', rebuild: 'not-needed', at: new Date().toISOString() });
    const silent = new ScriptedHistory({ registerSerial: null });
    silent.addDay(0, 2);
    await recovery().prepare('kkt', 'history', silent);
    expect(recovery().receipts.watermark('kkt')).not.toHaveProperty('registerSerial');
    const otherFn = new ScriptedHistory({ fnSerial: '7281440500999999' });
    otherFn.addDay(0, 1);
    await expect(recovery().prepare('kkt', 'history', otherFn)).rejects.toThrow(
      /register 00555000000001 with FN 7281440500999999 answers where this store knew register \(serial unknown\) with FN 9999078900007317/,
    );
    // The same FN, now with a serial: nothing changed, and the watermark learns its register.
    const same = new ScriptedHistory();
    same.addDay(0, 2);
    await recovery().prepare('kkt', 'history', same);
    expect(recovery().receipts.watermark('kkt')).toMatchObject({ registerSerial: same.registerSerial });
  });
});

describe('claiming a receipt found by its marker', () => {
  it('takes the receipt that is the bill’s: FISCALIZED with the fiscal data read back, once', async () => {
    const history = new ScriptedHistory();
    const job = await received('one');
    const receipt = history.addReceipt(job, 1);
    const r = recovery();
    await r.prepare('kkt', 'history', history);
    const claim = r.claim(job);
    if (claim.kind !== 'match') throw new Error(claim.kind);
    const done = r.take(jobs, job, claim.receipt);
    expect(done).toMatchObject({
      state: 'FISCALIZED',
      fiscal: receipt.fiscal,
      resolution: { printed: true, by: 'recovery' },
    });
    expect(r.receipts.counts()).toEqual({ found: 1, taken: 1 });
    // Taken by this job, it is this job's; no other job of another bill can take it.
    expect(r.claim(done).kind).toBe('match');
  });

  it('refuses a receipt whose total, positions or operation are not the bill’s', async () => {
    const history = new ScriptedHistory();
    const total = await received('total');
    history.addReceipt(total, 1, { totalMinor: 1 });
    const amount = await received('amount');
    const positions = amount.bill!.positions.map((p) => ({ ...p, amountMinor: p.amountMinor + 1 }));
    history.addReceipt(amount, 2, { positions });
    const count = await received('count');
    history.addReceipt(count, 3, { positions: [] });
    const returned = await received('returned');
    history.addReceipt(returned, 4, { operation: 'sellReturn' });
    const unknown = await received('unknown');
    history.addReceipt(unknown, 5, { totalMinor: undefined });
    const r = recovery();
    await r.prepare('kkt', 'history', history);
    expect(r.claim(total)).toMatchObject({
      kind: 'mismatch',
      reason: expect.stringMatching(/its total is 1 /),
    });
    expect(r.claim(amount)).toMatchObject({ reason: expect.stringMatching(/position 1 has amount/) });
    expect(r.claim(count)).toMatchObject({
      reason: expect.stringMatching(/has 0 positions where the bill has 2/),
    });
    expect(r.claim(returned)).toMatchObject({ reason: expect.stringMatching(/is a sellReturn, not a sell/) });
    expect(r.claim(unknown)).toMatchObject({ reason: expect.stringMatching(/total could not be read/) });
  });

  it('finds nothing for a job whose marker no receipt carries', async () => {
    expect(recovery().claim(await received('never')).kind).toBe('none');
  });
});
