import type { ConnectorStore } from '../../src/agent/connectors/types.js';
import type { Bill } from '../../src/agent/domain/index.js';
import type { BillIntake, IntakeResult } from '../../src/agent/jobs/intake.js';
import { type BillKey, billKeyString, type Job, type JobTrigger } from '../../src/agent/jobs/job.js';
import type { KktAgentError } from '../../src/lib/errors.js';

/** An in-memory ConnectorStore; share one instance across connectors to simulate a restart. */
export class MemoryStore implements ConnectorStore {
  readonly values = new Map<string, unknown>();
  writes = 0;

  get<T>(key: string): T | undefined {
    const value = this.values.get(key);
    return value === undefined ? undefined : (structuredClone(value) as T);
  }

  async set(key: string, value: unknown): Promise<void> {
    this.writes++;
    this.values.set(key, structuredClone(value));
  }
}

/** An in-memory BillIntake: a job per bill key, duplicates answered with the existing job. */
export class FakeIntake implements BillIntake {
  readonly jobs = new Map<string, Job>();
  readonly submissions: Array<{ bill: Bill; trigger: JobTrigger; deviceId: string | undefined }> = [];
  readonly rejections: Array<{ key: BillKey; number: string | undefined; error: KktAgentError }> = [];
  private seq = 0;

  async submit(input: { bill: Bill; trigger: JobTrigger; deviceId?: string }): Promise<IntakeResult> {
    const key = billKeyString({
      source: input.bill.source,
      account: input.bill.account,
      billId: input.bill.billId,
    });
    const existing = this.jobs.get(key);
    if (existing && existing.state !== 'FAILED') return { job: existing, duplicate: true };
    this.submissions.push({ bill: input.bill, trigger: input.trigger, deviceId: input.deviceId });
    const job = this.newJob(key, input.bill.source, input.bill.account, input.bill.billId, input.trigger);
    job.bill = input.bill;
    job.summary.number = input.bill.number;
    job.summary.totalMinor = input.bill.totalMinor;
    this.jobs.set(key, job);
    return { job, duplicate: false };
  }

  async reject(input: {
    key: BillKey;
    number?: string;
    error: KktAgentError;
    trigger: JobTrigger;
  }): Promise<IntakeResult> {
    const key = billKeyString(input.key);
    const existing = this.jobs.get(key);
    if (existing) return { job: existing, duplicate: true };
    this.rejections.push({ key: input.key, number: input.number, error: input.error });
    const job = this.newJob(key, input.key.source, input.key.account, input.key.billId, input.trigger);
    job.state = 'FAILED';
    const field = input.error.details['field'];
    job.failure = {
      code: input.error.code,
      message: input.error.message,
      ...(typeof field === 'string' ? { field } : {}),
      at: new Date().toISOString(),
      retryable: false,
    };
    this.jobs.set(key, job);
    return { job, duplicate: false };
  }

  find(key: BillKey): Job | undefined {
    return this.jobs.get(billKeyString(key));
  }

  private newJob(key: string, source: string, account: string, billId: string, trigger: JobTrigger): Job {
    const now = new Date().toISOString();
    this.seq++;
    return {
      id: `J${this.seq}`,
      key,
      seq: this.seq,
      summary: { source, account, billId },
      operation: 'sell',
      deviceId: 'kkt-1',
      state: 'RECEIVED',
      receivedAt: now,
      updatedAt: now,
      trigger,
      attempts: 0,
    };
  }
}
