import type { Logger } from 'pino';
import { z } from 'zod';
import { jitteredBackoffMs } from '../lib/backoff.js';
import {
  type CodesIn,
  type ErrorCode,
  KktAgentError,
  provesNothingHappened,
  ValidationError,
} from '../lib/errors.js';
import { crashPoint } from './crashPoints.js';
import { type FiscalDevice, PrintRefusedError } from './devices/device.js';
import type { FiscalData, Job } from './jobs/job.js';
import type { JobStore } from './jobs/jobStore.js';
import type { ReceiptHistory } from './jobs/receiptHistory.js';
import { type Recovery, RegisterChangedError } from './jobs/recovery.js';

/**
 * The codes a job's failure or block carries when the fiscalizer names it itself, with what each means
 * (docs/errors.md is made from this list); otherwise a job carries the code of the device's error.
 */
export const FISCALIZER_ERROR_CODES = {
  PRINT_FAILED: 'Printing failed with an error that has no code of its own; the message is all there is.',
  RECONCILE_UNREACHABLE:
    'The register could not be asked whether the receipt printed (link down or silent): the job is BLOCKED and reconciled again as soon as the register answers.',
  RECONCILE_AMBIGUOUS:
    'After a crash or a lost answer the register could not tell whether the receipt printed: the job is BLOCKED. Look at the register and resolve it (`kkt-agent jobs resolve --printed|--not-printed`).',
  RECOVERED_RECEIPT_MISMATCH:
    "A receipt read back from the register carries this job's marker but not its bill (amount or positions differ): the job is BLOCKED for a person.",
  RECOVERY_UNCONFIRMED:
    'After a lost store this device could not be read back; its bills wait BLOCKED until a technician runs `kkt-agent recover --confirm <device>`.',
} as const;

declare module '../lib/errors.js' {
  interface ErrorCodeRegistry {
    fiscalizer: CodesIn<typeof FISCALIZER_ERROR_CODES>;
  }
}

/** The `fiscalizer` section of the config: the schema owns its defaults; the fiscalizer takes the parsed type. */
export const fiscalizerConfigSchema = z.strictObject({
  /** First delay after a retryable refusal (no paper, shift expired…); doubles (jittered) up to `maxRetryDelayMs`. */
  retryDelayMs: z.number().int().min(10).max(600_000).default(2000),
  maxRetryDelayMs: z.number().int().min(100).max(3_600_000).default(60_000),
  /** A job refused this many times (retryably) is failed, so one bad bill cannot stall the queue forever. */
  maxAttempts: z.number().int().min(1).max(10_000).default(50),
  /** A reconcile that fails this many times in a row blocks the job for a person instead of the whole queue. */
  maxReconcileFailures: z.number().int().min(1).max(1000).default(10),
  /** How long SIGTERM waits for a receipt being printed before the agent exits anyway. */
  stopTimeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
  /**
   * A device with a receipt in progress and unheard of this long fails the watchdog's liveness probe, so
   * systemd restarts the agent (the journal reconciles the receipt at the next start).
   */
  deviceStallMs: z.number().int().min(10_000).max(3_600_000).default(300_000),
});

export type FiscalizerConfig = z.output<typeof fiscalizerConfigSchema>;
export type FiscalizerOptions = Pick<
  FiscalizerConfig,
  'retryDelayMs' | 'maxRetryDelayMs' | 'maxAttempts' | 'maxReconcileFailures'
>;

export const FISCALIZER_DEFAULTS: FiscalizerConfig = fiscalizerConfigSchema.parse({});

const monotonicNow = (): number => performance.now();
/** How often a device blocked because another register answers asks again who answers. */
const REGISTER_CHANGED_RECHECK_MS = 30_000;

/** A job blocked because the register could not be asked: asked again whenever it answers. */
const UNREACHABLE = 'RECONCILE_UNREACHABLE' satisfies ErrorCode;

export type FiscalizerEvent =
  | { type: 'printing'; job: Job }
  | { type: 'fiscalized'; job: Job }
  | { type: 'failed'; job: Job }
  | { type: 'blocked'; job: Job }
  | { type: 'requeued'; job: Job; reason: string };

/**
 * Takes the jobs of one device in arrival order and fiscalizes each exactly once. Before the first byte
 * goes to the device the job is journaled PRINTING with the device's anchor; an outcome that is lost
 * (crash, unplugged cable) is reconciled against the device, never retried blindly.
 */
export class Fiscalizer {
  private running = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  /** When a refused job may be tried again, on the monotonic clock: a wall-clock step must not strand it. */
  private readonly retryAt = new Map<string, number>();
  private busyJob: string | undefined;
  private readonly reconcileFailures = new Map<string, number>();
  private readonly options: FiscalizerOptions;
  private lock: Promise<unknown> = Promise.resolve();
  /** The device's documents since the store's watermark were read back since it last became ready. */
  private caughtUp = false;
  /** When a job blocked because the register could not be asked is asked again (monotonic), and how often it was. */
  private readonly recheckAt = new Map<string, { at: number; tries: number }>();

  constructor(
    private readonly device: FiscalDevice,
    private readonly jobs: JobStore,
    private readonly logger: Logger,
    options: Partial<FiscalizerOptions> = {},
    private readonly onEvent: (event: FiscalizerEvent) => void = () => undefined,
    private readonly recovery?: Recovery,
  ) {
    this.options = { ...FISCALIZER_DEFAULTS, ...options };
    device.on('ready', () => {
      // A reconnect may find another FN, or documents someone made meanwhile: look before printing.
      this.caughtUp = false;
      // The register answers again: the jobs it could not be asked about are asked at once.
      this.recheckAt.clear();
      this.wake();
    });
  }

  /** The job being printed right now, if any (the restart lock waits for it). */
  get currentJob(): string | undefined {
    return this.busyJob;
  }

  /**
   * Runs work on the device between two jobs (a Z report, cash in), never in the middle of a receipt or
   * between a job's anchor and its print.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work);
    this.lock = run.catch(() => undefined);
    return run;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops taking new jobs and waits for the one in progress to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private mine(job: Job): boolean {
    return job.deviceId === this.device.id;
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (!this.device.ready) {
        await this.sleep(5000);
        continue;
      }
      try {
        if (!this.caughtUp) {
          await this.catchUp();
          continue;
        }
        const pending = this.jobs.inState('PRINTING').filter((job) => this.mine(job));
        if (pending.length > 0) {
          await this.exclusive(() => this.reconcile(pending[0]!));
          continue;
        }
        const stranded = this.strandedDue();
        if (stranded) {
          await this.exclusive(() => this.recheck(stranded));
          continue;
        }
        const next = this.nextReceived();
        if (!next) {
          const soonest = Math.min(
            ...[...this.retryAt.values(), ...[...this.recheckAt.values()].map((r) => r.at)].map(
              (at) => at - monotonicNow(),
            ),
            30_000,
          );
          await this.sleep(Math.max(soonest, 10));
          continue;
        }
        await this.exclusive(() => this.process(next));
      } catch (error) {
        if (error instanceof RegisterChangedError) {
          // Another register answers (logged once by the recovery): looked at again now and then, in case
          // the right one is put back, and at once when a technician takes this one.
          await this.sleep(REGISTER_CHANGED_RECHECK_MS);
          continue;
        }
        // The device dropped or refused to answer a query: wait for it rather than spin.
        this.logger.warn({
          event: 'fiscalizer.device-error',
          device: this.device.id,
          reason: (error as Error).message,
        });
        await this.sleep(this.options.retryDelayMs);
      }
    }
  }

  /**
   * Reads back what the device made that the store does not account for, before anything prints
   * (docs/fiscalization.md, "Rebuilding from the register"). Each document is read between two jobs'
   * worth of exclusive use, so a technician's X report or a status never waits for the whole read.
   */
  private async catchUp(): Promise<void> {
    if (this.recovery) {
      const history = this.device.history();
      const shared: ReceiptHistory | undefined = history && {
        head: () => this.exclusive(() => history.head()),
        read: (documentNumber) => this.exclusive(() => history.read(documentNumber)),
      };
      await this.recovery.prepare(this.device.id, this.device.readBack, shared);
    }
    this.caughtUp = true;
  }

  /**
   * What the read-back decides before a print: a device held after a lost store blocks the job for a
   * person (unless a person already said it was not printed); a receipt found with the job's marker that
   * is this bill's makes the job FISCALIZED without printing; one that is not this bill's blocks it.
   * Returns true when it took the job.
   */
  private async recalled(job: Job): Promise<boolean> {
    const recovery = this.recovery;
    if (!recovery) return false;
    const claim = recovery.claim(job);
    if (claim.kind === 'match') {
      const done = recovery.take(this.jobs, job, claim.receipt);
      this.logger.warn({
        event: 'job.recovered',
        job: job.id,
        device: this.device.id,
        fd: claim.receipt.documentNumber,
        fn: claim.receipt.fnSerial,
      });
      this.onEvent({ type: 'fiscalized', job: done });
      return true;
    }
    const held =
      claim.kind === 'none' && job.resolution?.printed !== false ? recovery.held(this.device.id) : undefined;
    const reason = claim.kind === 'mismatch' ? claim.reason : held;
    if (reason === undefined) return false;
    const code: ErrorCode = claim.kind === 'mismatch' ? 'RECOVERED_RECEIPT_MISMATCH' : 'RECOVERY_UNCONFIRMED';
    const blocked = await this.jobs.transition(
      job.id,
      'BLOCKED',
      { blocked: { code, message: `${reason} (marker ${job.id})`, at: new Date().toISOString() } },
      ['RECEIVED'],
    );
    this.logger.error({ event: 'job.blocked', job: job.id, code, reason });
    this.onEvent({ type: 'blocked', job: blocked });
    return true;
  }

  /** A job BLOCKED because the register could not be asked, due to be asked again. */
  private strandedDue(): Job | undefined {
    const now = monotonicNow();
    return this.jobs
      .inState('BLOCKED')
      .filter((job) => this.mine(job) && job.blocked?.code === UNREACHABLE)
      .find((job) => (this.recheckAt.get(job.id)?.at ?? 0) <= now);
  }

  /**
   * Asks the register again about a job blocked because it could not be asked (issue: a link outage right
   * after the close): its receipt found makes it FISCALIZED, the FN's proof that nothing was made requeues
   * it, an answer that cannot tell leaves it for a person with that reason. No answer: asked again later.
   */
  private async recheck(job: Job): Promise<void> {
    this.busyJob = job.id;
    try {
      let outcome: Awaited<ReturnType<FiscalDevice['reconcile']>>;
      try {
        outcome = await this.device.reconcile(job);
      } catch (error) {
        const tries = (this.recheckAt.get(job.id)?.tries ?? 0) + 1;
        const delay = jitteredBackoffMs(tries - 1, {
          firstDelayMs: this.options.retryDelayMs,
          maxDelayMs: this.options.maxRetryDelayMs,
        });
        this.recheckAt.set(job.id, { at: monotonicNow() + delay, tries });
        this.logger.info({
          event: 'job.recheck-failed',
          job: job.id,
          reason: (error as Error).message,
          retryInMs: delay,
        });
        return;
      }
      this.recheckAt.delete(job.id);
      this.logger.warn({ event: 'job.rechecked', job: job.id, outcome: outcome.kind });
      if (outcome.kind === 'fiscalized') {
        const done = await this.jobs.transition(
          job.id,
          'FISCALIZED',
          { fiscal: outcome.fiscal, blocked: undefined },
          ['BLOCKED'],
        );
        this.onEvent({ type: 'fiscalized', job: done });
      } else if (outcome.kind === 'not-printed') {
        const requeued = await this.jobs.transition(job.id, 'RECEIVED', { blocked: undefined }, ['BLOCKED']);
        this.onEvent({ type: 'requeued', job: requeued, reason: outcome.note });
      } else {
        await this.jobs.transition(
          job.id,
          'BLOCKED',
          { blocked: { code: 'RECONCILE_AMBIGUOUS', message: outcome.reason, at: new Date().toISOString() } },
          ['BLOCKED'],
        );
        this.logger.error({ event: 'job.blocked', job: job.id, reason: outcome.reason });
      }
    } finally {
      this.busyJob = undefined;
    }
  }

  private nextReceived(): Job | undefined {
    const now = monotonicNow();
    return this.jobs
      .inState('RECEIVED')
      .filter((job) => this.mine(job))
      .find((job) => (this.retryAt.get(job.id) ?? 0) <= now);
  }

  private async process(job: Job): Promise<void> {
    this.busyJob = job.id;
    try {
      if (await this.recalled(job)) return;
      const anchor = await this.device.preparePrint(job);
      const printing = await this.jobs.transition(job.id, 'PRINTING', {
        printing: { ...anchor, startedAt: new Date().toISOString() },
        attempts: job.attempts + 1,
      });
      this.onEvent({ type: 'printing', job: printing });
      crashPoint('fiscalizer:before-print');
      let fiscal: FiscalData;
      try {
        fiscal = await this.device.print(printing);
      } catch (error) {
        if (provesNothingHappened(error)) {
          await this.refused(printing, error);
        } else {
          // It may have printed: stay PRINTING; the loop reconciles as soon as the device answers again.
          this.logger.warn({ event: 'job.outcome-unknown', job: job.id, reason: (error as Error).message });
        }
        return;
      }
      try {
        const done = await this.jobs.transition(job.id, 'FISCALIZED', { fiscal, failure: undefined });
        this.retryAt.delete(job.id);
        this.logger.info({
          event: 'job.fiscalized',
          job: job.id,
          device: this.device.id,
          fd: fiscal.fiscalDocumentNumber,
          total: fiscal.totalMinor,
        });
        this.onEvent({ type: 'fiscalized', job: done });
      } catch (error) {
        // Printed, but the journal refused the line (disk full, I/O error). The job stays PRINTING, so the
        // next pass reconciles it from the device instead of printing it again.
        this.logger.error({
          event: 'job.fiscalized-not-journaled',
          job: job.id,
          reason: (error as Error).message,
        });
      }
    } finally {
      this.busyJob = undefined;
    }
  }

  private async refused(job: Job, error: unknown): Promise<void> {
    const now = new Date().toISOString();
    const known = error instanceof KktAgentError ? error : undefined;
    const retryable =
      error instanceof PrintRefusedError ? error.retryable : !(error instanceof ValidationError);
    const failure = {
      code: known?.code ?? ('PRINT_FAILED' satisfies ErrorCode),
      message: known?.message ?? String(error),
      field: error instanceof ValidationError ? error.field : undefined,
      at: now,
      retryable,
    };
    if (retryable && job.attempts < this.options.maxAttempts) {
      const delay = jitteredBackoffMs(job.attempts - 1, {
        firstDelayMs: this.options.retryDelayMs,
        maxDelayMs: this.options.maxRetryDelayMs,
      });
      this.retryAt.set(job.id, monotonicNow() + delay);
      const requeued = await this.jobs.transition(job.id, 'RECEIVED', { failure });
      this.logger.warn({
        event: 'job.refused-retry',
        job: job.id,
        code: failure.code,
        reason: failure.message,
        retryInMs: delay,
      });
      this.onEvent({ type: 'requeued', job: requeued, reason: failure.message });
      return;
    }
    const failed = await this.jobs.transition(job.id, 'FAILED', { failure });
    this.retryAt.delete(job.id);
    this.logger.warn({ event: 'job.failed', job: job.id, code: failure.code, reason: failure.message });
    this.onEvent({ type: 'failed', job: failed });
  }

  /** Decides the fate of a job left PRINTING by reading the device. Never prints blindly. */
  private async reconcile(job: Job): Promise<void> {
    this.busyJob = job.id;
    try {
      let outcome: Awaited<ReturnType<FiscalDevice['reconcile']>>;
      let unreachable = false;
      try {
        outcome = await this.device.reconcile(job);
        this.reconcileFailures.delete(job.id);
      } catch (error) {
        // A device that answers but cannot tell (an unreadable document) must not hold the queue forever.
        const failures = (this.reconcileFailures.get(job.id) ?? 0) + 1;
        this.reconcileFailures.set(job.id, failures);
        if (failures < this.options.maxReconcileFailures) throw error;
        this.reconcileFailures.delete(job.id);
        unreachable = true;
        outcome = {
          kind: 'ambiguous',
          reason: `the register could not be asked (${(error as Error).message}) after ${failures} tries`,
        };
      }
      this.logger.info({ event: 'job.reconciled', job: job.id, outcome: outcome.kind });
      if (outcome.kind === 'fiscalized') {
        const done = await this.jobs.transition(job.id, 'FISCALIZED', { fiscal: outcome.fiscal });
        this.onEvent({ type: 'fiscalized', job: done });
      } else if (outcome.kind === 'not-printed') {
        const requeued = await this.jobs.transition(job.id, 'RECEIVED', {});
        this.onEvent({ type: 'requeued', job: requeued, reason: outcome.note });
      } else {
        const code: ErrorCode = unreachable ? UNREACHABLE : 'RECONCILE_AMBIGUOUS';
        const blocked = await this.jobs.transition(job.id, 'BLOCKED', {
          blocked: { code, message: outcome.reason, at: new Date().toISOString() },
        });
        this.logger.error({ event: 'job.blocked', job: job.id, reason: outcome.reason });
        this.onEvent({ type: 'blocked', job: blocked });
      }
    } finally {
      this.busyJob = undefined;
    }
  }
}
