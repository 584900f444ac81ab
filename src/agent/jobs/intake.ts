import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { type KktAgentError, ValidationError } from '../../lib/errors.js';
import { formatPath } from '../../lib/validation.js';
import { type Bill, validateBill } from '../domain/bill.js';
import { markingOperationProblems } from '../domain/marking.js';
import {
  type BillKey,
  billKeyString,
  billSummary,
  type Job,
  type JobOperation,
  type JobTrigger,
} from './job.js';
import { jobIdFor, newJobId } from './jobId.js';
import type { JobStore } from './jobStore.js';

export interface IntakeResult {
  job: Job;
  /** True when the bill was already known: nothing new was created and nothing will print again. */
  duplicate: boolean;
}

/** Where sources hand bills in. Every call is journaled (fsync) before it resolves. */
export interface BillIntake {
  submit(input: {
    bill: Bill;
    trigger: JobTrigger;
    operation?: JobOperation;
    deviceId?: string;
  }): Promise<IntakeResult>;
  /** A bill that failed validation: recorded as a FAILED job with the reason, never sent to a device. */
  reject(input: {
    key: BillKey;
    number?: string;
    error: KktAgentError;
    trigger: JobTrigger;
  }): Promise<IntakeResult>;
  /** The job of a bill, if the agent has seen it (the fiscalized-bills registry). */
  find(key: BillKey): Job | undefined;
}

/** Triggers that stand for a person's (or the cloud's) explicit request, which may retry a FAILED bill. */
const EXPLICIT_TRIGGERS = new Set<JobTrigger['kind']>(['command', 'cli', 'mqtt']);

/** Picks the device that fiscalizes a bill (config: by source and account, else the default). */
export type DeviceRouter = (bill: Pick<Bill, 'source' | 'account' | 'currency'>) => string;

/**
 * Whether the device can take the bill at all (a register that cannot sell marked goods, one whose last
 * self-test refused something the bill needs): the refusal, or undefined.
 */
export type DeviceAdmission = (deviceId: string, bill: Bill) => KktAgentError | undefined;

/** A marked position's given status (2110) must fit the operation: "sold" on a sale, "returned" on a return. */
function assertMarkingFitsOperation(bill: Bill, operation: JobOperation): void {
  const [problem] = markingOperationProblems(bill.positions, operation === 'sellReturn');
  if (problem) throw new ValidationError(formatPath(problem.path), problem.reason, {}, 'MARKING_INVALID');
}

export interface IntakeEvents {
  /** A new job is waiting for its device. */
  queued: [job: Job];
}

/**
 * The one door bills come in by. Validates, deduplicates by (source, account, billId) and journals a
 * RECEIVED job (fsync) before answering, so a bill accepted here survives any crash and never prints twice.
 */
export class Intake extends EventEmitter<IntakeEvents> implements BillIntake {
  private serial: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly jobs: JobStore,
    private readonly route: DeviceRouter,
    private readonly logger: Logger,
    private readonly admit: DeviceAdmission = () => undefined,
  ) {
    super();
  }

  find(key: BillKey): Job | undefined {
    return this.jobs.findByBill(key);
  }

  /** Serialised so two deliveries of the same bill racing each other still make one job. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.serial.then(work);
    this.serial = run.catch(() => undefined);
    return run;
  }

  submit(input: {
    bill: Bill;
    trigger: JobTrigger;
    operation?: JobOperation;
    deviceId?: string;
  }): Promise<IntakeResult> {
    return this.exclusive(async () => {
      const key = billKeyString(input.bill);
      const existing = this.jobs.findByBill(input.bill);
      if (existing?.state === 'FAILED' && EXPLICIT_TRIGGERS.has(input.trigger.kind)) {
        return this.resubmitFailed(
          existing,
          input.bill,
          input.trigger,
          input.operation ?? existing.operation,
        );
      }
      if (existing) {
        this.logger.info({
          event: 'intake.duplicate',
          job: existing.id,
          key,
          state: existing.state,
          trigger: input.trigger.kind,
        });
        return { job: existing, duplicate: true };
      }
      let bill: Bill;
      const deviceId = (valid: Bill) => input.deviceId ?? this.route(valid);
      try {
        bill = validateBill(input.bill);
        assertMarkingFitsOperation(bill, input.operation ?? 'sell');
        const refusal = this.admit(deviceId(bill), bill);
        if (refusal) throw refusal;
      } catch (error) {
        return this.recordRejected(
          { source: input.bill.source, account: input.bill.account, billId: input.bill.billId },
          input.bill.number,
          error as KktAgentError,
          input.trigger,
        );
      }
      const now = new Date().toISOString();
      const operation = input.operation ?? 'sell';
      const job = await this.jobs.create({
        id: this.idFor(bill, operation),
        key,
        seq: this.jobs.nextSeq(),
        bill,
        summary: billSummary(bill),
        operation,
        deviceId: deviceId(bill),
        state: 'RECEIVED',
        receivedAt: now,
        updatedAt: now,
        trigger: input.trigger,
        attempts: 0,
      });
      this.logger.info({
        event: 'intake.received',
        job: job.id,
        key,
        device: job.deviceId,
        positions: bill.positions.length,
      });
      this.emit('queued', job);
      return { job, duplicate: false };
    });
  }

  /**
   * The bill's derived id (its receipt marker), unless another bill's job already holds it: then a random
   * one, logged, since two jobs cannot share an id. A rebuild cannot tie such a receipt to its bill; when
   * the bill comes back after a lost store it meets the other bill's receipt, which does not match, and
   * blocks for a person instead of printing (docs/fiscalization.md, "The marker").
   */
  private idFor(key: BillKey, operation: JobOperation): string {
    const derived = jobIdFor(key, operation);
    const holder = this.jobs.get(derived);
    if (holder === undefined) return derived;
    const id = newJobId();
    this.logger.warn({
      event: 'intake.marker-collision',
      key: billKeyString(key),
      marker: derived,
      heldBy: holder.key,
      job: id,
    });
    return id;
  }

  /**
   * A person (or the cloud, by command) asks again for a bill whose job FAILED: nothing was printed for
   * it, so it may be tried again with the bill as it is now (perhaps corrected at the source).
   */
  private async resubmitFailed(
    existing: Job,
    input: Bill,
    trigger: JobTrigger,
    operation: JobOperation,
  ): Promise<IntakeResult> {
    let bill: Bill;
    try {
      bill = validateBill(input);
      assertMarkingFitsOperation(bill, operation);
      const refusal = this.admit(existing.deviceId || this.route(bill), bill);
      if (refusal) throw refusal;
    } catch (error) {
      const e = error as KktAgentError;
      const field = (e as { field?: unknown }).field;
      const failed = await this.jobs.transition(existing.id, 'FAILED', {
        failure: {
          code: e.code,
          message: e.message,
          field: typeof field === 'string' ? field : undefined,
          at: new Date().toISOString(),
          retryable: false,
        },
      });
      return { job: failed, duplicate: false };
    }
    const job = await this.jobs.transition(
      existing.id,
      'RECEIVED',
      {
        bill,
        summary: {
          ...existing.summary,
          number: bill.number,
          totalMinor: bill.totalMinor,
          currency: bill.currency,
        },
        deviceId: existing.deviceId || this.route(bill),
        trigger,
        attempts: 0,
        failure: undefined,
      },
      ['FAILED'],
    );
    this.logger.info({ event: 'intake.resubmitted', job: job.id, key: job.key, trigger: trigger.kind });
    this.emit('queued', job);
    return { job, duplicate: false };
  }

  reject(input: {
    key: BillKey;
    number?: string;
    error: KktAgentError;
    trigger: JobTrigger;
  }): Promise<IntakeResult> {
    return this.exclusive(async () => {
      const existing = this.jobs.findByBill(input.key);
      if (existing) return { job: existing, duplicate: true };
      return this.recordRejected(input.key, input.number, input.error, input.trigger);
    });
  }

  private async recordRejected(
    key: BillKey,
    number: string | undefined,
    error: KktAgentError,
    trigger: JobTrigger,
  ) {
    const now = new Date().toISOString();
    const field = (error as { field?: unknown }).field;
    const job = await this.jobs.create({
      id: this.idFor(key, 'sell'),
      key: billKeyString(key),
      seq: this.jobs.nextSeq(),
      summary: { ...key, number },
      operation: 'sell',
      deviceId: '',
      state: 'FAILED',
      receivedAt: now,
      updatedAt: now,
      trigger,
      attempts: 0,
      failure: {
        code: error.code ?? 'BILL_INVALID',
        message: error.message,
        field: typeof field === 'string' ? field : undefined,
        at: now,
        retryable: false,
      },
    });
    this.logger.warn({
      event: 'intake.rejected',
      job: job.id,
      key: job.key,
      code: job.failure?.code,
      reason: error.message,
    });
    return { job, duplicate: false };
  }
}
