import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { type ErrorCode, type KktAgentError, ValidationError } from '../../lib/errors.js';
import { systemTimeZone, wallClockAt } from '../../lib/time.js';
import { formatPath } from '../../lib/validation.js';
import { type Bill, validateBill } from '../domain/bill.js';
import { markingOperationProblems } from '../domain/marking.js';
import { isCorrection, isReturn, kindOf, operationOf } from '../domain/receiptKind.js';
import { assertReceiptRules } from '../domain/receiptRules.js';
import type { IntakeConfig } from './config.js';
import {
  type BillKey,
  billKeyString,
  billSummary,
  type Job,
  type JobOperation,
  type JobTrigger,
  type RelatedReceipt,
} from './job.js';
import { jobIdFor, newJobId } from './jobId.js';
import type { JobStore } from './jobStore.js';
import { assertRelatable, planLinks, relatedReceipt } from './linkPlan.js';
import type { JobLinkInput } from './links.js';

export interface SubmitInput {
  bill: Bill;
  trigger: JobTrigger;
  /** The kind of receipt (default `sell`). */
  operation?: JobOperation;
  deviceId?: string;
  /**
   * What a bill that cannot print becomes: `record` (default), a FAILED job naming the field, reported to
   * its source like any failure; `throw`, a refused request that leaves nothing behind (the refund and
   * correction commands: the person asking sees the error).
   */
  onInvalid?: 'record' | 'throw';
}

export interface IntakeResult {
  job: Job;
  /** True when the bill was already known: nothing new was created and nothing will print again. */
  duplicate: boolean;
}

/** Where sources hand bills in. Every call is journaled (fsync) before it resolves. */
export interface BillIntake {
  submit(input: SubmitInput): Promise<IntakeResult>;
  /** A bill that failed validation: recorded as a FAILED job with the reason, never sent to a device. */
  reject(input: {
    key: BillKey;
    number?: string;
    error: KktAgentError;
    trigger: JobTrigger;
    operation?: JobOperation;
  }): Promise<IntakeResult>;
  /** The job of a bill, if the agent has seen it (the fiscalized-bills registry). */
  find(key: BillKey): Job | undefined;
}

/** A bill ready to become a job: validated, its kind decided, its related receipt and links worked out. */
interface Prepared {
  bill: Bill;
  operation: JobOperation;
  related?: RelatedReceipt;
  links: JobLinkInput[];
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
  const [problem] = markingOperationProblems(bill.positions, isReturn(operation));
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
    private readonly config: Partial<IntakeConfig> & { timeZone?: string; now?: () => Date } = {},
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

  submit(input: SubmitInput): Promise<IntakeResult> {
    return this.exclusive(async () => {
      const key = billKeyString(input.bill);
      const existing = this.jobs.findByBill(input.bill);
      if (existing?.state === 'FAILED' && EXPLICIT_TRIGGERS.has(input.trigger.kind)) {
        return this.resubmitFailed(existing, input);
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
      const operation = input.operation ?? 'sell';
      let prepared: Prepared;
      try {
        prepared = this.prepare(input.bill, operation);
        const refusal = this.admit(input.deviceId ?? this.route(prepared.bill), prepared.bill);
        if (refusal) throw refusal;
      } catch (error) {
        if (input.onInvalid === 'throw') throw error;
        return this.recordRejected(
          input.bill,
          input.bill.number,
          error as KktAgentError,
          input.trigger,
          operation,
        );
      }
      const { bill } = prepared;
      const now = new Date().toISOString();
      let job: Job;
      try {
        job = await this.jobs.create(
          {
            id: this.idFor(bill, prepared.operation),
            key,
            seq: this.jobs.nextSeq(),
            bill,
            summary: billSummary(bill),
            operation: prepared.operation,
            ...(prepared.related ? { related: prepared.related } : {}),
            deviceId: input.deviceId ?? this.route(bill),
            state: 'RECEIVED',
            receivedAt: now,
            updatedAt: now,
            trigger: input.trigger,
            attempts: 0,
          },
          prepared.links,
        );
      } catch (error) {
        // A link over its limit (a return of more than was sold, an offset of more than was prepaid).
        if (!(error instanceof ValidationError)) throw error;
        if (input.onInvalid === 'throw') throw error;
        return this.recordRejected(input.bill, input.bill.number, error, input.trigger, operation);
      }
      this.logger.info({
        event: 'intake.received',
        job: job.id,
        key,
        kind: job.operation,
        device: job.deviceId,
        positions: bill.positions.length,
        links: prepared.links.map((link) => link.kind),
      });
      this.emit('queued', job);
      return { job, duplicate: false };
    });
  }

  /**
   * Validates a bill for its kind (shape and arithmetic, then the kind's rules), turns a late sale into a
   * correction when so configured, and works out the receipt it relates to and the links it makes.
   */
  private prepare(input: Bill, requested: JobOperation): Prepared {
    const validated = validateBill(input);
    const operation = this.lateCorrection(validated, requested);
    const bill =
      operation === requested ? validated : { ...validated, correction: this.lateBasis(validated) };
    assertMarkingFitsOperation(bill, operation);
    assertReceiptRules(bill, operation);
    let related: Job | undefined;
    if (bill.relatesTo !== undefined) {
      related = this.jobs.get(bill.relatesTo.jobId);
      assertRelatable(operation, related, bill.relatesTo.jobId);
    }
    return {
      bill,
      operation,
      ...(related ? { related: relatedReceipt(related) } : {}),
      links: planLinks(bill, operation, related),
    };
  }

  /** The calendar day of a bill's settlement when its source's date text starts with `YYYY-MM-DD`. */
  private settlementDay(bill: Bill): string | undefined {
    const day = /^(\d{4}-\d{2}-\d{2})(?:[ T]|$)/.exec(bill.date ?? '')?.[1];
    return day;
  }

  private lateBasis(bill: Bill): Bill['correction'] {
    return { type: 'self', baseDate: this.settlementDay(bill)! };
  }

  /**
   * `intake.lateCorrectionAfterDays` (off by default): a sale or purchase whose bill is dated more than that
   * many days before today is a settlement that went without a receipt in time, so it is fiscalized as a
   * self-initiated correction (tag 1173 = 0) of that date (1178).
   */
  private lateCorrection(bill: Bill, requested: JobOperation): JobOperation {
    const afterDays = this.config.lateCorrectionAfterDays;
    if (afterDays === undefined || isCorrection(requested) || bill.correction !== undefined) return requested;
    const day = this.settlementDay(bill);
    if (day === undefined) return requested;
    const now = this.config.now?.() ?? new Date();
    const { year, month, day: today } = wallClockAt(now, this.config.timeZone ?? systemTimeZone());
    const daysLate = (Date.UTC(year, month - 1, today) - Date.parse(`${day}T00:00:00Z`)) / 86_400_000;
    if (!(daysLate > afterDays)) return requested;
    const corrected = kindOf(operationOf(requested), true);
    this.logger.info({
      event: 'intake.late-correction',
      key: billKeyString(bill),
      day,
      daysLate,
      kind: corrected,
    });
    return corrected;
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
  private async resubmitFailed(existing: Job, input: SubmitInput): Promise<IntakeResult> {
    const { trigger } = input;
    const operation = input.operation ?? existing.operation;
    let prepared: Prepared;
    try {
      prepared = this.prepare(input.bill, operation);
      const refusal = this.admit(existing.deviceId || this.route(prepared.bill), prepared.bill);
      if (refusal) throw refusal;
    } catch (error) {
      if (input.onInvalid === 'throw') throw error;
      return { job: await this.failAgain(existing, error as KktAgentError), duplicate: false };
    }
    const { bill } = prepared;
    let job: Job;
    try {
      job = await this.jobs.transition(
        existing.id,
        'RECEIVED',
        {
          bill,
          summary: { ...existing.summary, ...billSummary(bill) },
          operation: prepared.operation,
          related: prepared.related,
          deviceId: existing.deviceId || this.route(bill),
          trigger,
          attempts: 0,
          failure: undefined,
        },
        ['FAILED'],
        prepared.links,
      );
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      if (input.onInvalid === 'throw') throw error;
      return { job: await this.failAgain(existing, error), duplicate: false };
    }
    this.logger.info({ event: 'intake.resubmitted', job: job.id, key: job.key, trigger: trigger.kind });
    this.emit('queued', job);
    return { job, duplicate: false };
  }

  /** A FAILED bill asked for again is still wrong: the job stays FAILED with the new reason. */
  private failAgain(existing: Job, e: KktAgentError): Promise<Job> {
    const field = (e as { field?: unknown }).field;
    return this.jobs.transition(existing.id, 'FAILED', {
      failure: {
        code: e.code,
        message: e.message,
        field: typeof field === 'string' ? field : undefined,
        at: new Date().toISOString(),
        retryable: false,
      },
    });
  }

  reject(input: {
    key: BillKey;
    number?: string;
    error: KktAgentError;
    trigger: JobTrigger;
    operation?: JobOperation;
  }): Promise<IntakeResult> {
    return this.exclusive(async () => {
      const existing = this.jobs.findByBill(input.key);
      if (existing) return { job: existing, duplicate: true };
      return this.recordRejected(input.key, input.number, input.error, input.trigger, input.operation);
    });
  }

  private async recordRejected(
    bill: BillKey,
    number: string | undefined,
    error: KktAgentError,
    trigger: JobTrigger,
    operation: JobOperation = 'sell',
  ) {
    const key: BillKey = { source: bill.source, account: bill.account, billId: bill.billId };
    const now = new Date().toISOString();
    const field = (error as { field?: unknown }).field;
    const job = await this.jobs.create({
      id: this.idFor(key, 'sell'),
      key: billKeyString(key),
      seq: this.jobs.nextSeq(),
      summary: { ...key, number },
      operation,
      deviceId: '',
      state: 'FAILED',
      receivedAt: now,
      updatedAt: now,
      trigger,
      attempts: 0,
      failure: {
        code: error.code ?? ('BILL_INVALID' satisfies ErrorCode),
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
