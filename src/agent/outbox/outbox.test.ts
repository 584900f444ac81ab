import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queryPlansOf } from '../../../test/support/queryPlans.js';
import { StorageWriteError } from '../../lib/durableFile.js';
import type { Job } from '../jobs/job.js';
import { AgentDatabase } from '../store/database.js';
import { DeliveryError } from './deliveryError.js';
import { Outbox, type OutboxOptions } from './outbox.js';
import type { AgentEvent, OutboxEntry } from './sink.js';

const logger = pino({ level: 'silent' });
let dir: string;
let db: AgentDatabase;
let outbox: Outbox;

/** An outbox on a real database file in the test's directory. */
function openOutbox(options: Partial<OutboxOptions> = {}): Outbox {
  db = AgentDatabase.open(join(dir, 'agent.db'), { fsync: false });
  return new Outbox(db, logger, options);
}

async function closeOutbox(): Promise<void> {
  await outbox.stop();
  db.close();
}

const job = (id: string): Job =>
  ({
    id,
    key: `t/a/${id}`,
    seq: 1,
    summary: { source: 't', account: 'a', billId: id },
    state: 'FISCALIZED',
  }) as unknown as Job;
const fiscalized = (id: string): AgentEvent => ({ type: 'job.fiscalized', job: job(id) });

function sink(deliver: (entry: OutboxEntry) => Promise<void> = async () => undefined) {
  let drafted = 0;
  return {
    name: 'cloud',
    get drafted() {
      return drafted;
    },
    draft(event: AgentEvent) {
      drafted++;
      return event.type === 'job.fiscalized'
        ? [{ kind: 'receipt', jobId: event.job.id, payload: { id: crypto.randomUUID() } }]
        : [];
    },
    deliver,
  };
}

/** Opens `outbox` with one sink whose every delivery fails with a fresh `error()`; counts the attempts. */
async function openFailing(
  backoff: { initialBackoffMs: number; maxBackoffMs: number },
  error: () => DeliveryError,
): Promise<{ attempts: number }> {
  outbox = openOutbox(backoff);
  const delivery = { attempts: 0 };
  outbox.addSink(
    sink(async () => {
      delivery.attempts++;
      throw error();
    }),
  );
  return delivery;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-outbox-'));
});

afterEach(async () => {
  await closeOutbox().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const until = async (probe: () => boolean, what: string) => {
  const deadline = Date.now() + 5000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('Outbox', () => {
  it('names an entry by its event and sink: a new store drafting the same event gives it the same id, and a kept entry is not doubled', async () => {
    outbox = openOutbox();
    outbox.addSink(sink());
    const [first] = await outbox.publish(fiscalized('j1'));
    const [other] = await outbox.publish(fiscalized('j2'));
    await closeOutbox();
    // The card is replaced: an empty database drafts the event again.
    await rm(join(dir, 'agent.db'), { force: true });
    outbox = openOutbox();
    outbox.addSink(sink());
    const [again] = await outbox.publish(fiscalized('j1'));
    expect(again!.id).toBe(first!.id);
    expect(other!.id).not.toBe(first!.id);
    // An entry kept under that id (its draft marker gone) is not drafted a second time.
    db.write('test', () => db.statement('DELETE FROM outbox_drafts').run());
    expect(await outbox.publish(fiscalized('j1'))).toEqual([]);
    expect(outbox.entries({ sink: 'cloud' })).toHaveLength(1);
  });

  it('a sink that cannot draft does not cancel the others; it alone is drafted again later (issue 18.4)', async () => {
    outbox = openOutbox();
    const good = sink();
    let broken = true;
    const picky = {
      name: 'picky',
      drafted: 0,
      draft(event: AgentEvent) {
        this.drafted++;
        if (broken) throw new Error('not my bill');
        return event.type === 'job.fiscalized' ? [{ kind: 'receipt', jobId: event.job.id, payload: {} }] : [];
      },
      deliver: async () => undefined,
    };
    outbox.addSink(good);
    outbox.addSink(picky);
    const first = await outbox.publish(fiscalized('j1'));
    expect(first.map((e) => e.sink)).toEqual(['cloud']);
    expect(outbox.published(fiscalized('j1'))).toBe(false);
    outbox.start();
    await until(() => outbox.entries({ state: 'delivered' }).length === 1, 'the good sink delivered');
    expect(outbox.allDelivered('j1')).toBe(false);
    // Recovery tries again: still failing, nothing new is written.
    const commits = db.stats.commits;
    expect(await outbox.publish(fiscalized('j1'))).toEqual([]);
    expect(db.stats.commits).toBe(commits);
    // After a restart the marker still says who is missing; once it drafts, only it is drafted.
    await closeOutbox();
    outbox = openOutbox();
    outbox.addSink(good);
    outbox.addSink(picky);
    broken = false;
    const second = await outbox.publish(fiscalized('j1'));
    expect(second.map((e) => e.sink)).toEqual(['picky']);
    expect(good.drafted).toBe(1);
    expect(outbox.published(fiscalized('j1'))).toBe(true);
    expect(await outbox.publish(fiscalized('j1'))).toEqual([]);
    // Retention keeps a marker while it names an undrafted sink, so nothing is drafted twice.
    broken = true;
    await outbox.publish(fiscalized('j2'));
    outbox.start();
    await until(() => outbox.entries({ state: 'pending' }).length === 0, 'everything drafted delivered');
    await outbox.deleteDelivered(Date.now() + 365 * 86_400_000);
    expect(outbox.entries()).toEqual([]);
    broken = false;
    expect((await outbox.publish(fiscalized('j2'))).map((e) => e.sink)).toEqual(['picky']);
  });

  it('drafts an event once even when published twice at the same time', async () => {
    outbox = openOutbox();
    const s = sink();
    outbox.addSink(s);
    const [first, second] = await Promise.all([
      outbox.publish(fiscalized('j1')),
      outbox.publish(fiscalized('j1')),
    ]);
    expect(first).toHaveLength(1);
    expect(second).toEqual([]);
    expect(s.drafted).toBe(1);
    expect(outbox.entries({ jobId: 'j1' })).toHaveLength(1);
  });

  it('treats a Retry-After of 0 as a failure with the minimum backoff, not as success', async () => {
    const delivery = await openFailing(
      { initialBackoffMs: 100, maxBackoffMs: 200 },
      () => new DeliveryError('HTTP_429', 'slow down', { permanent: false, retryAfterMs: 0 }),
    );
    await outbox.publish(fiscalized('j1'));
    outbox.start();
    await new Promise((r) => setTimeout(r, 350));
    expect(delivery.attempts).toBeGreaterThanOrEqual(2);
    expect(delivery.attempts).toBeLessThanOrEqual(5);
  });

  it('does not cut a backoff short when new entries arrive while the cloud is failing', async () => {
    const delivery = await openFailing(
      { initialBackoffMs: 60_000, maxBackoffMs: 60_000 },
      () => new DeliveryError('HTTP_503', 'down', { permanent: false }),
    );
    await outbox.publish(fiscalized('j0'));
    outbox.start();
    await until(() => delivery.attempts === 1, 'the first attempt');
    for (let i = 1; i <= 20; i++) await outbox.publish(fiscalized(`j${i}`));
    await new Promise((r) => setTimeout(r, 200));
    expect(delivery.attempts).toBe(1);
    expect(await outbox.retry()).toBe(0);
    await until(() => delivery.attempts === 2, 'an explicit retry goes at once');
  });

  it('stops at once even while waiting out a long backoff', async () => {
    const delivery = await openFailing(
      { initialBackoffMs: 60_000, maxBackoffMs: 60_000 },
      () => new DeliveryError('DELIVERY_FAILED', 'down', { permanent: false }),
    );
    await outbox.publish(fiscalized('j1'));
    outbox.start();
    await until(() => delivery.attempts === 1, 'the first attempt');
    const stopped = Date.now();
    await outbox.stop();
    expect(Date.now() - stopped).toBeLessThan(5_000);
  });

  it('keeps delivering after the store refuses a write (disk full), without losing the entry', async () => {
    outbox = openOutbox({ initialBackoffMs: 10, maxBackoffMs: 20 });
    const delivered: string[] = [];
    outbox.addSink(
      sink(async (entry) => {
        delivered.push(entry.id);
      }),
    );
    await outbox.publish(fiscalized('j1'));
    const realWrite = db.write.bind(db);
    let refuse = true;
    db.write = ((name, work, options) => {
      if (refuse && name === 'outbox-delivered') {
        refuse = false;
        throw new StorageWriteError(
          db.path,
          'write to',
          Object.assign(new Error('disk full'), { code: 'ENOSPC' }),
        );
      }
      return realWrite(name, work, options);
    }) as typeof db.write;
    outbox.start();
    await until(() => outbox.allDelivered('j1'), 'delivered after the failed write');
    expect(delivered.length).toBe(2);
    expect(new Set(delivered).size).toBe(1);
  });

  it('answers "all delivered" from its index, and survives a reopen', async () => {
    outbox = openOutbox();
    outbox.addSink(sink());
    await outbox.publish(fiscalized('j1'));
    expect(outbox.allDelivered('j1')).toBe(false);
    expect(outbox.allDelivered('unknown')).toBe(true);
    outbox.start();
    await until(() => outbox.allDelivered('j1'), 'delivered');
    await closeOutbox();
    outbox = openOutbox();
    expect(outbox.allDelivered('j1')).toBe(true);
    expect(outbox.published(fiscalized('j1'))).toBe(true);
  });
});

describe('Outbox retention', () => {
  it('deletes delivered reports past retention and their markers, keeps pending ones', async () => {
    outbox = openOutbox({ retainDeliveredDays: 1 });
    outbox.addSink(sink());
    await outbox.publish(fiscalized('old'));
    outbox.start();
    await until(() => outbox.allDelivered('old'), 'delivered');
    await outbox.stop();
    await outbox.publish(fiscalized('waiting'));
    expect(await outbox.deleteDelivered(Date.now() + 2 * 86_400_000)).toBe(1);
    expect(outbox.entries().map((entry) => entry.jobId)).toEqual(['waiting']);
    expect(outbox.published(fiscalized('old'))).toBe(false);
    expect(outbox.published(fiscalized('waiting'))).toBe(true);
    expect(outbox.sinkStats()['cloud']).toMatchObject({ pending: 1, delivered: 0, dead: 0 });
  });
});

describe('Outbox sink stats', () => {
  it('counts pending and delivered reports per sink through publishing, delivery and retention', async () => {
    outbox = openOutbox({ retainDeliveredDays: 1 });
    outbox.addSink(sink());
    for (const id of ['a', 'b', 'c']) await outbox.publish(fiscalized(id));
    outbox.start();
    await until(() => ['a', 'b', 'c'].every((id) => outbox.allDelivered(id)), 'delivered');
    await outbox.stop();
    await outbox.publish(fiscalized('d'));
    await outbox.publish(fiscalized('e'));
    const head = outbox.entries().find((entry) => entry.jobId === 'd')!;
    expect(outbox.sinkStats()['cloud']).toMatchObject({
      pending: 2,
      delivered: 3,
      dead: 0,
      oldestPendingAt: head.createdAt,
    });
    expect(await outbox.deleteDelivered(Date.now() + 2 * 86_400_000)).toBe(3);
    expect(outbox.sinkStats()['cloud']).toMatchObject({ pending: 2, delivered: 0, dead: 0 });
  });

  it('reads no outbox row to count them: a month of delivered reports is not read at every state document', async () => {
    outbox = openOutbox();
    outbox.addSink(sink());
    await outbox.publish(fiscalized('a'));
    const plans = queryPlansOf(db, () => outbox.sinkStats());
    expect(plans.length).toBeGreaterThan(0);
    for (const { sql, plan } of plans) {
      expect(plan, sql).not.toMatch(/\bSCAN outbox\b(?! USING (COVERING )?INDEX outbox_queue)/);
    }
  });
});
