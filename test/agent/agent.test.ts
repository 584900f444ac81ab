import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { PrintRefusedError, type ReceiptSearch } from '../../src/agent/devices/device.js';
import type { Job, JobState } from '../../src/agent/jobs/job.js';
import { DeliveryError } from '../../src/agent/outbox/deliveryError.js';
import type { AgentDatabase } from '../../src/agent/store/database.js';
import { KktOutcomeUnknownError } from '../../src/drivers/atol/errors.js';
import { KktAgentError, ValidationError } from '../../src/lib/errors.js';
import { sampleBill } from '../support/bills.js';
import { FakeDevice } from '../support/fakeDevice.js';
import { RecordingSink } from '../support/recordingSink.js';
import { until } from '../support/until.js';

const logger = pino({ level: 'silent' });
let dir: string;
let agents: Agent[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kkt-agent-core-'));
});

afterEach(async () => {
  for (const agent of agents) await agent.stop().catch(() => undefined);
  agents = [];
  await rm(dir, { recursive: true, force: true });
});

async function openAgent(device: FakeDevice, sink: RecordingSink, fiscalizer: Record<string, number> = {}) {
  const agent = await Agent.open({
    dataDir: dir,
    logger,
    devices: [device],
    connectors: [],
    sinks: [sink],
    router: () => device.id,
    fiscalizer: { retryDelayMs: 10, maxRetryDelayMs: 20, maxAttempts: 3, stopTimeoutMs: 2000, ...fiscalizer },
    outbox: { initialBackoffMs: 10, maxBackoffMs: 40 },
  });
  agents.push(agent);
  await agent.start();
  return agent;
}

const stateOf = (agent: Agent, id: string): JobState | undefined => agent.jobs.get(id)?.state;

describe('exactly once, end to end in memory', () => {
  it('fiscalizes a bill once, reports it once, and marks the job REPORTED', async () => {
    const device = new FakeDevice();
    const sink = new RecordingSink();
    const agent = await openAgent(device, sink);
    const { job } = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, job.id) === 'REPORTED', 'REPORTED');
    expect(device.printed.map((j) => j.id)).toEqual([job.id]);
    expect(sink.delivered).toHaveLength(1);
    expect(agent.jobs.get(job.id)?.fiscal?.fiscalDocumentNumber).toBe(101);
  });

  it('answers a second delivery of the same bill with the existing job and prints nothing', async () => {
    const device = new FakeDevice();
    const agent = await openAgent(device, new RecordingSink());
    const first = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'poll' } });
    const [second, third] = await Promise.all([
      agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'mqtt' } }),
      agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'command' } }),
    ]);
    expect(second.duplicate && third.duplicate).toBe(true);
    expect(second.job.id).toBe(first.job.id);
    await until(() => stateOf(agent, first.job.id) === 'REPORTED', 'REPORTED');
    expect(device.printed).toHaveLength(1);
  });

  it('records a malformed bill as FAILED with the field, and never sends it to the device', async () => {
    const device = new FakeDevice();
    const sink = new RecordingSink();
    const agent = await openAgent(device, sink);
    const bill = { ...sampleBill('bad'), totalMinor: 1 };
    const { job } = await agent.intake.submit({ bill, trigger: { kind: 'test' } });
    expect(job.state).toBe('FAILED');
    expect(job.failure?.code).toBe('BILL_TOTAL_MISMATCH');
    await until(() => sink.delivered.find((e) => e.kind === 'rejection'), 'rejection report');
    expect(device.attempts).toBe(0);
  });
});

describe('failed bills asked for again', () => {
  it('retries a FAILED bill on an explicit command with the corrected bill, but not on a poll', async () => {
    const device = new FakeDevice();
    const agent = await openAgent(device, new RecordingSink());
    const broken = { ...sampleBill('b1'), totalMinor: 1 };
    const { job } = await agent.intake.submit({ bill: broken, trigger: { kind: 'poll' } });
    expect(job.state).toBe('FAILED');
    const again = await agent.intake.submit({ bill: broken, trigger: { kind: 'poll' } });
    expect(again).toMatchObject({ duplicate: true, job: { id: job.id, state: 'FAILED' } });
    const stillBroken = await agent.intake.submit({ bill: broken, trigger: { kind: 'command' } });
    expect(stillBroken.job.state).toBe('FAILED');
    const fixed = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'command' } });
    expect(fixed).toMatchObject({ duplicate: false, job: { id: job.id, state: 'RECEIVED' } });
    await until(() => stateOf(agent, job.id) === 'REPORTED', 'REPORTED');
    expect(device.printed).toHaveLength(1);
  });
});

describe('refusals', () => {
  it('retries a retryable refusal (no paper) and prints once the device recovers', async () => {
    const device = new FakeDevice();
    device.script = () =>
      device.attempts < 3 ? new PrintRefusedError('KKT_NO_PAPER', 'no paper', true) : undefined;
    const agent = await openAgent(device, new RecordingSink());
    const { job } = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, job.id) === 'REPORTED', 'REPORTED');
    expect(device.attempts).toBe(3);
    expect(device.printed).toHaveLength(1);
  });

  it('fails a job the device refuses for good, keeping the reason', async () => {
    const device = new FakeDevice();
    device.script = () => new ValidationError('items[0].name', 'too long');
    const agent = await openAgent(device, new RecordingSink());
    const { job } = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    const failed = await until(
      () => (stateOf(agent, job.id) === 'FAILED' ? agent.jobs.get(job.id) : undefined),
      'FAILED',
    );
    expect(failed.failure).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'items[0].name',
      retryable: false,
    });
  });

  it('gives up after maxAttempts retryable refusals instead of stalling the queue', async () => {
    const device = new FakeDevice();
    device.script = (job) =>
      job.key.endsWith('/b1') ? new PrintRefusedError('KKT_SHIFT_EXPIRED', 'expired', true) : undefined;
    const agent = await openAgent(device, new RecordingSink());
    const stuck = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    const next = await agent.intake.submit({ bill: sampleBill('b2'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, stuck.job.id) === 'FAILED', 'FAILED after 3 attempts');
    await until(() => stateOf(agent, next.job.id) === 'REPORTED', 'next job printed');
  });
});

describe('lost outcomes are reconciled, never retried blindly', () => {
  it('does not print again when the FISCALIZED journal line cannot be written (disk full)', async () => {
    const device = new FakeDevice();
    const agent = await openAgent(device, new RecordingSink());
    const transition = agent.jobs.transition.bind(agent.jobs);
    let failOnce = true;
    agent.jobs.transition = async (id, to, patch) => {
      if (to === 'FISCALIZED' && failOnce) {
        failOnce = false;
        throw new KktAgentError('STORAGE_WRITE_FAILED', 'disk full');
      }
      return transition(id, to, patch);
    };
    const { job } = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, job.id) === 'REPORTED', 'REPORTED');
    expect(device.printed).toHaveLength(1);
    expect(device.attempts).toBe(1);
  });

  it('treats an unexpected error after the device printed as an unknown outcome, not a refusal', async () => {
    const device = new FakeDevice();
    device.script = (job) => {
      device.script = undefined;
      device.printSilently(job);
      return new RangeError('Invalid time value');
    };
    const agent = await openAgent(device, new RecordingSink());
    const { job } = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, job.id) === 'REPORTED', 'REPORTED');
    expect(device.printed).toHaveLength(1);
    expect(device.attempts).toBe(1);
  });

  it('blocks a job whose reconcile keeps failing instead of holding the queue', async () => {
    const device = new FakeDevice();
    device.script = () => new KktOutcomeUnknownError('sell', 'closing', new Error('lost'));
    device.reconcile = async () => {
      throw new Error('document unreadable');
    };
    const agent = await openAgent(device, new RecordingSink(), { maxReconcileFailures: 3 });
    const { job } = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    const blocked = await until(
      () => (stateOf(agent, job.id) === 'BLOCKED' ? agent.jobs.get(job.id) : undefined),
      'BLOCKED',
      15_000,
    );
    expect(blocked.blocked?.message).toContain('could not be asked');
  });

  it('finds the receipt that was printed although the answer was lost', async () => {
    const device = new FakeDevice();
    device.script = (job) => {
      device.script = undefined;
      device.printSilently(job);
      return new KktOutcomeUnknownError('sell', 'closing the receipt', new Error('link down'));
    };
    const agent = await openAgent(device, new RecordingSink());
    const { job } = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, job.id) === 'REPORTED', 'REPORTED');
    expect(device.printed).toHaveLength(1);
    expect(device.attempts).toBe(1);
  });

  it('prints again only when the device proves nothing was printed', async () => {
    const device = new FakeDevice();
    device.script = () => {
      device.script = undefined;
      return new KktOutcomeUnknownError('sell', 'closing the receipt', new Error('link down'));
    };
    const agent = await openAgent(device, new RecordingSink());
    const { job } = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, job.id) === 'REPORTED', 'REPORTED');
    expect(device.attempts).toBe(2);
    expect(device.printed).toHaveLength(1);
  });

  it('blocks an ambiguous job, then a technician resolves it both ways', async () => {
    const device = new FakeDevice();
    device.script = () => new KktOutcomeUnknownError('sell', 'closing', new Error('lost'));
    device.reconcileAnswer = () => ({ kind: 'ambiguous', reason: 'cannot tell' });
    const agent = await openAgent(device, new RecordingSink());
    const a = await agent.intake.submit({ bill: sampleBill('a'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, a.job.id) === 'BLOCKED', 'BLOCKED');
    const b = await agent.intake.submit({ bill: sampleBill('b'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, b.job.id) === 'BLOCKED', 'second BLOCKED');
    expect((await agent.status()).blocked.map((j) => j.id).sort()).toEqual([a.job.id, b.job.id].sort());

    const printed = await agent.resolveJob(a.job.id, { printed: true, by: 'tech' });
    expect(printed.state).toBe('FISCALIZED');
    await until(() => stateOf(agent, a.job.id) === 'REPORTED', 'resolved as printed → REPORTED');

    device.script = undefined;
    device.reconcileAnswer = undefined;
    await agent.resolveJob(b.job.id, { printed: false, by: 'tech' });
    await until(() => stateOf(agent, b.job.id) === 'REPORTED', 'resolved as not printed → printed once');
    expect(device.printed.map((j) => j.id)).toEqual([b.job.id]);
    await expect(agent.resolveJob(b.job.id, { printed: true, by: 'tech' })).rejects.toMatchObject({
      code: 'JOB_NOT_BLOCKED',
    });
  });

  it('takes only one of two opposite decisions on a blocked job made at the same time', async () => {
    const device = new FakeDevice();
    device.script = () => new KktOutcomeUnknownError('sell', 'closing', new Error('lost'));
    device.reconcileAnswer = () => ({ kind: 'ambiguous', reason: 'cannot tell' });
    const agent = await openAgent(device, new RecordingSink());
    const { job } = await agent.intake.submit({ bill: sampleBill('a'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, job.id) === 'BLOCKED', 'BLOCKED');
    device.script = undefined;
    const outcomes = await Promise.allSettled([
      agent.resolveJob(job.id, { printed: true, by: 'cli' }),
      agent.resolveJob(job.id, { printed: false, by: 'mqtt' }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    await until(() => stateOf(agent, job.id) === 'REPORTED', 'REPORTED');
    expect(device.printed).toHaveLength(0);
  });

  it('reconciles a job left PRINTING by a crash when the agent starts again', async () => {
    const device = new FakeDevice();
    device.script = () => 'hang';
    const first = await openAgent(device, new RecordingSink());
    const { job } = await first.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => stateOf(first, job.id) === 'PRINTING', 'PRINTING');
    device.printSilently(job);
    // "Crash": close the store under the hanging print and reopen.
    await first.outbox.stop();
    (first as unknown as { db: { close(): void } }).db.close();
    agents = agents.filter((a) => a !== first);
    device.script = undefined;
    const sink = new RecordingSink();
    const second = await openAgent(device, sink);
    await until(() => stateOf(second, job.id) === 'REPORTED', 'REPORTED after restart');
    expect(device.printed).toHaveLength(1);
    expect(sink.delivered).toHaveLength(1);
  });
});

describe('outbox', () => {
  it('retries with the same ids until the sink accepts, in FIFO order per sink', async () => {
    const device = new FakeDevice();
    const sink = new RecordingSink();
    sink.behaviour = (_entry, attempt) =>
      attempt < 3 ? new DeliveryError('HTTP_503', 'down', { permanent: false }) : undefined;
    const agent = await openAgent(device, sink);
    const jobs: Job[] = [];
    for (const id of ['b1', 'b2', 'b3'])
      jobs.push((await agent.intake.submit({ bill: sampleBill(id), trigger: { kind: 'test' } })).job);
    await until(() => jobs.every((j) => stateOf(agent, j.id) === 'REPORTED'), 'all REPORTED');
    expect(sink.delivered.map((e) => e.jobId)).toEqual(jobs.map((j) => j.id));
    for (const entry of sink.delivered) {
      const tries = sink.attempts.filter((a) => a.id === entry.id);
      expect(tries).toHaveLength(3);
      expect(new Set(tries.map((t) => JSON.stringify(t.payload))).size).toBe(1);
    }
  });

  it('moves a report the sink rejects for good to the dead letter, and retries it on demand', async () => {
    const device = new FakeDevice();
    const sink = new RecordingSink();
    let reject = true;
    sink.behaviour = () => (reject ? DeliveryError.fromHttpStatus(400, 'bad request') : undefined);
    const agent = await openAgent(device, sink);
    const { job } = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => agent.outbox.entries({ state: 'dead' }).length === 1, 'dead letter');
    expect(stateOf(agent, job.id)).toBe('FISCALIZED');
    expect((await agent.status()).outbox.test?.dead).toBe(1);
    reject = false;
    expect(await agent.outbox.retry({ sink: 'test' })).toBe(1);
    await until(() => stateOf(agent, job.id) === 'REPORTED', 'REPORTED after retry');
  });

  it('keeps undelivered reports across a restart and delivers them with the same ids', async () => {
    const device = new FakeDevice();
    const down = new RecordingSink();
    down.behaviour = () => new DeliveryError('DELIVERY_FAILED', 'unreachable', { permanent: false });
    const first = await openAgent(device, down);
    const { job } = await first.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => down.attempts.length >= 2, 'a few failed attempts');
    await first.stop();
    agents = [];
    const up = new RecordingSink();
    const second = await openAgent(device, up);
    await until(() => stateOf(second, job.id) === 'REPORTED', 'REPORTED after restart');
    expect(up.delivered[0]?.payload).toEqual(down.attempts[0]?.payload);
    expect(device.printed).toHaveLength(1);
  });

  it('journals nothing for an event a sink cannot draft yet, and drafts it on the next recovery', async () => {
    const device = new FakeDevice();
    const sink = new RecordingSink();
    const realDraft = sink.draft.bind(sink);
    let broken = true;
    sink.draft = (event) => {
      if (broken) throw new Error('not started');
      return realDraft(event);
    };
    const first = await openAgent(device, sink);
    const { job } = await first.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => stateOf(first, job.id) === 'FISCALIZED', 'FISCALIZED');
    expect(first.outbox.entries()).toEqual([]);
    await first.stop();
    agents = [];
    broken = false;
    const second = await openAgent(device, sink);
    await until(() => stateOf(second, job.id) === 'REPORTED', 'REPORTED after recovery');
    expect(sink.delivered).toHaveLength(1);
  });

  it('orders shift events and receipts as they happened', async () => {
    const device = new FakeDevice();
    const sink = new RecordingSink();
    const agent = await openAgent(device, sink);
    await agent.deviceOperation(undefined, (d) => d.openShift());
    const { job } = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, job.id) === 'REPORTED', 'REPORTED');
    await agent.deviceOperation(undefined, (d) => d.closeShift());
    await until(() => sink.delivered.length === 3, 'three reports');
    expect(sink.delivered.map((e) => e.kind)).toEqual(['shift.opened', 'receipt', 'shift.closed']);
  });
});

describe("the agent's own alerts (issue 18.4, 18.11)", () => {
  it('a receipt fiscalized but unreported past the limit is an alert; a reported one is not', async () => {
    const device = new FakeDevice();
    const sink = new RecordingSink();
    sink.behaviour = () => new DeliveryError('DELIVERY_FAILED', 'the cloud is down', { permanent: false });
    const agent = await Agent.open({
      dataDir: dir,
      logger,
      devices: [device],
      connectors: [],
      sinks: [sink],
      router: () => device.id,
      fiscalizer: { retryDelayMs: 10, maxRetryDelayMs: 20, maxAttempts: 3, stopTimeoutMs: 2000 },
      outbox: { initialBackoffMs: 10, maxBackoffMs: 40, unreportedAlertMs: 3_600_000 },
    });
    agents.push(agent);
    await agent.start();
    const { job } = await agent.intake.submit({ bill: sampleBill('late'), trigger: { kind: 'test' } });
    await until(
      () => stateOf(agent, job.id) === 'FISCALIZED' && sink.attempts.length > 0,
      'a refused report',
    );
    expect(agent.alerts()).toEqual([]);
    const later = Date.parse(agent.jobs.get(job.id)!.updatedAt) + 3_601_000;
    const [alert] = agent.alerts(later);
    expect(alert).toMatchObject({ code: 'RECEIPTS_UNREPORTED', since: agent.jobs.get(job.id)!.updatedAt });
    expect(alert!.message).toContain(
      `1 receipt(s) fiscalized but not reported for over 60 min (oldest: job ${job.id}`,
    );
    sink.behaviour = () => undefined;
    await until(() => stateOf(agent, job.id) === 'REPORTED', 'REPORTED once the cloud is back');
    expect(agent.alerts(later)).toEqual([]);
  });

  it('a sink that cannot draft keeps the job FISCALIZED while the other sink reports it', async () => {
    const device = new FakeDevice();
    const good = new RecordingSink('good');
    const picky = new RecordingSink('picky');
    picky.draft = () => {
      throw new ValidationError('sourceData.products', 'not a bill of this cloud');
    };
    const agent = await Agent.open({
      dataDir: dir,
      logger,
      devices: [device],
      connectors: [],
      sinks: [good, picky],
      router: () => device.id,
      fiscalizer: { retryDelayMs: 10, maxRetryDelayMs: 20, maxAttempts: 3, stopTimeoutMs: 2000 },
      outbox: { initialBackoffMs: 10, maxBackoffMs: 40 },
    });
    agents.push(agent);
    await agent.start();
    const { job } = await agent.intake.submit({ bill: sampleBill('picky'), trigger: { kind: 'test' } });
    await until(() => good.delivered.length === 1, 'the good sink delivered');
    expect(stateOf(agent, job.id)).toBe('FISCALIZED');
    expect(agent.alerts(Date.now() + 2 * 3_600_000).map((a) => a.code)).toEqual(['RECEIPTS_UNREPORTED']);
  });

  it('a bill refused for a fault of the local module of Честный ЗНАК is an alert for an hour; a forbidden code is not', async () => {
    const device = new FakeDevice();
    device.script = (job) =>
      job.key.endsWith('/down')
        ? new PrintRefusedError(
            'MARKING_LM_UNAVAILABLE',
            'The local module … (its status is initialization)',
            false,
          )
        : new PrintRefusedError('MARKING_LM_REFUSED', 'positions[0] "Духи": blocked', false);
    const agent = await openAgent(device, new RecordingSink());
    const blocked = await agent.intake.submit({ bill: sampleBill('blocked'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, blocked.job.id) === 'FAILED', 'the forbidden code FAILED');
    expect(agent.alerts()).toEqual([]);
    const down = await agent.intake.submit({ bill: sampleBill('down'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, down.job.id) === 'FAILED', 'the unavailable module FAILED');
    const [alert] = agent.alerts();
    expect(alert).toMatchObject({
      code: 'MARKING_LM_UNAVAILABLE',
      since: agent.jobs.get(down.job.id)!.updatedAt,
    });
    expect(alert!.message).toContain(
      `1 bill(s) with marked goods refused in the last hour because the local module of Честный ЗНАК could not be used (latest: job ${down.job.id}, MARKING_LM_UNAVAILABLE`,
    );
    expect(agent.alerts(Date.now() + 3_601_000)).toEqual([]);
  });

  it('failing database writes are an alert until a write succeeds (a full disk)', async () => {
    const device = new FakeDevice();
    const agent = await openAgent(device, new RecordingSink());
    // The database may not grow: as a full disk, every commit that needs a new page fails.
    const db = (agent as unknown as { db: AgentDatabase }).db;
    const pages = Number(db.statement('PRAGMA page_count').pluck().get());
    db.statement(`PRAGMA max_page_count = ${pages}`).get();
    const refused = await agent.intake
      .submit({ bill: sampleBill('full', { positions: 200 }), trigger: { kind: 'test' } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toMatchObject({ code: 'STORAGE_WRITE_FAILED' });
    const [alert] = agent.alerts();
    expect(alert).toMatchObject({ code: 'JOURNAL_WRITES_FAILING' });
    expect(alert!.message).toContain(`Writes to the agent's database (${db.path}) are failing since`);
    expect(alert!.message).toContain(`free space on ${dir}`);
    db.statement('PRAGMA max_page_count = 1073741823').get();
    await agent.intake.submit({ bill: sampleBill('freed'), trigger: { kind: 'test' } });
    expect(agent.alerts()).toEqual([]);
  });
});

describe('a person says "not printed": the register is searched first (issue 18.3)', () => {
  /** A job BLOCKED because its outcome was lost and the reconcile could not ask the register. */
  async function blockedJob(search: (job: Job) => Promise<ReceiptSearch>) {
    const device = new FakeDevice();
    device.script = (job) => {
      device.script = undefined;
      return new KktOutcomeUnknownError('sell', 'closing', new Error(`lost ${job.id}`));
    };
    device.reconcile = async () => {
      throw new Error('document unreadable');
    };
    const agent = await openAgent(device, new RecordingSink(), { maxReconcileFailures: 1 });
    const { job } = await agent.intake.submit({ bill: sampleBill('b1'), trigger: { kind: 'test' } });
    await until(() => stateOf(agent, job.id) === 'BLOCKED', 'BLOCKED', 15_000);
    // From here on the device keeps a readable history (an FN), searched by the job's marker.
    device.readBack = 'history';
    device.searchReceipt = search;
    return { agent, device, job };
  }

  it('refuses when the FN holds the marker, naming the FD, and the job stays BLOCKED', async () => {
    const { agent, job } = await blockedJob(async () => ({
      kind: 'found',
      fiscalDocumentNumber: 4242,
      fnSerial: '7380440700000001',
    }));
    const refusal = agent.resolveJob(job.id, { printed: false, by: 'test', force: true });
    await expect(refusal).rejects.toMatchObject({ code: 'JOB_RECEIPT_FOUND' });
    await expect(refusal).rejects.toThrow(/FD 4242/);
    expect(stateOf(agent, job.id)).toBe('BLOCKED');
  });

  it('refuses when the register cannot be searched, unless forced, and records what was forced', async () => {
    const { agent, device, job } = await blockedJob(async () => ({ kind: 'unknown', reason: 'silent' }));
    await expect(agent.resolveJob(job.id, { printed: false, by: 'test' })).rejects.toMatchObject({
      code: 'JOB_RECEIPT_UNCHECKED',
    });
    expect(stateOf(agent, job.id)).toBe('BLOCKED');
    const resolved = await agent.resolveJob(job.id, { printed: false, by: 'test', force: true });
    expect(resolved.resolution).toMatchObject({ printed: false, forced: 'silent' });
    await until(() => device.printed.length === 1, 'printed after the forced resolution');
  });

  it('requeues the job when the FN was searched and holds no receipt of it', async () => {
    const { agent, device, job } = await blockedJob(async () => ({
      kind: 'absent',
      checked: 'documents 101…103 hold no receipt with its marker',
    }));
    const resolved = await agent.resolveJob(job.id, { printed: false, by: 'test' });
    expect(resolved.resolution).toMatchObject({
      checked: 'documents 101…103 hold no receipt with its marker',
    });
    await until(() => device.printed.length === 1, 'printed once');
  });
});
