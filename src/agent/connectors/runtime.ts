import pino, { type Logger } from 'pino';
import { StorageWriteError } from '../../lib/durableFile.js';
import { errorCode, KktAgentError } from '../../lib/errors.js';
import type { IntakeResult } from '../jobs/intake.js';
import type { JobTrigger } from '../jobs/job.js';
import type { ReportSink } from '../outbox/sink.js';
import type { CloudCodePrefix } from './errorCodes.js';
import { type BillRetrySchedule, FailingBills } from './failingBills.js';
import { ConnectorHealth, type ConnectorHealthOptions, type HealthRecord } from './health.js';
import { isCloudUnavailable } from './http/errors.js';
import { PollLoop } from './pollLoop.js';
import type { BillCommand, Connector, ConnectorContext, ConnectorStatus } from './types.js';

/**
 * What every cloud connector does the same way, once: start and stop, the context, the abort signal that
 * ends every request at stop, one poll at a time with numbered cycles, health for status(), and the turn
 * of each bill within a cycle. A cloud brings its parts (in the way of zigbee2mqtt's extensions): a source
 * of bills, a sink for their reports and, where the cloud wants one, a reporter of its own.
 */

/** How a cloud's names, codes and log events are spelled. */
export interface CloudNames {
  /** The connector is `<kind>:<account>` (also its config key and its sink's name). */
  kind: string;
  /** Error codes begin with it: `BRIDGE_NOT_STARTED`. */
  codePrefix: CloudCodePrefix;
  /** Log events begin with it: `bridge.poll.failed`. */
  event: string;
  /** What a technician calls the cloud: `Bridge`, `OX System`. */
  label: string;
}

/** A call that needs the running connector came before start or after stop. */
export class ConnectorNotStartedError extends KktAgentError {
  constructor(cloud: CloudNames, account: string, what: string) {
    super(
      `${cloud.codePrefix}_NOT_STARTED`,
      `${cloud.label} ${account}: cannot ${what}: the connector is not running.`,
      { account },
    );
  }
}

/** The reason every request of a stopping connector is aborted with. */
export class ConnectorStoppedError extends KktAgentError {
  constructor(cloud: CloudNames, account: string) {
    super(`${cloud.codePrefix}_STOPPED`, `${cloud.label} ${account}: the connector stopped.`, { account });
  }
}

/** One poll: its number and the trigger its jobs carry (`poll`, `<connector>#<n>`). */
export interface PollCycle {
  number: number;
  trigger: JobTrigger;
}

/** One concern of a connector, started and stopped with it. */
export interface ConnectorPart {
  /** Before the connector runs: restore what was persisted (ids, cursors, shifts). */
  open?(): Promise<void> | void;
  /** Once it runs: first contact with the cloud, timers. */
  start?(): Promise<void> | void;
  /** After every request was aborted: wait for the part's own work. */
  stop?(): Promise<void> | void;
  /** What the part adds to `status().details`. */
  status?(): Record<string, unknown>;
}

/** Where a connector's bills come from: polled, and looked up on a person's command. */
export interface BillSource<R = unknown> extends ConnectorPart {
  /** Polls on its own schedule (otherwise only `pollOnce` and commands bring bills). */
  readonly polls: boolean;
  poll(cycle: PollCycle): Promise<R>;
  /** The wait after one poll ends before the next begins. */
  pollIntervalMs(): number;
  /** Looks one bill up in the cloud and hands it to the intake (a known bill answers with its job). */
  fiscalizeOnCommand(command: BillCommand): Promise<IntakeResult>;
}

export interface ConnectorParts<R> {
  source: BillSource<R>;
  sink?: ReportSink & ConnectorPart;
  /** Further concerns (MoySklad's `/state` reporter). */
  others?: ConnectorPart[];
}

/** What a bill's failure within a poll means for the rest of the cycle. */
export type BillFailure = 'next' | 'stop';

/**
 * How a cycle treats its bills' failures (docs/bridge.md, "One bad bill"). A bill that fails is the bill's
 * own problem: it gets its own backoff and an alert, and the cycle goes on with the next one. The cycle
 * stops only when the cloud itself is down (`cloudUp` says no), the store cannot write, or the connector
 * stops.
 */
export interface BillPolicy<T> {
  /** The bill's id in the cloud: its backoff and alert go by it. */
  idOf(bill: T): string;
  /** A bill passed over while its backoff runs (OX holds its cursor there). */
  passedOver?(bill: T): void;
  /**
   * After a failure that may be the cloud's rather than the bill's (unreachable, timeout, 5xx): asks the
   * cloud again (HELLO). A failure here ends the cycle and the bill is not charged with it.
   */
  cloudUp?(): Promise<unknown>;
  /** The source's own bookkeeping for a bill's failure (counts, cursor holds). */
  failed?(error: unknown, bill: T): void;
}

export interface ConnectorRuntimeOptions extends Omit<ConnectorHealthOptions, 'now' | 'onAlert'> {
  now?: () => Date;
  /** The backoff of a failing bill; default a minute, doubling to half an hour. */
  billRetry?: BillRetrySchedule;
}

export const BILL_RETRY_DEFAULTS: BillRetrySchedule = { firstDelayMs: 60_000, maxDelayMs: 30 * 60_000 };

/** A failure no bill is to blame for: the store cannot write (the cycle would fail the same for every bill). */
function endsTheCycle(error: unknown): boolean {
  return (
    error instanceof StorageWriteError ||
    (typeof error === 'object' &&
      error !== null &&
      (error as { needsTechnician?: unknown }).needsTechnician === true)
  );
}

export class ConnectorRuntime<R = unknown> implements Connector {
  readonly name: string;
  readonly health: ConnectorHealth;
  readonly now: () => Date;
  /** Bills of this connector that could not be taken, each with its own backoff (status, alerts). */
  readonly failingBills: FailingBills;
  sink: ReportSink | undefined;
  private parts: ConnectorParts<R> | undefined;
  private contextValue: ConnectorContext | undefined;
  private loggerValue: Logger = pino({ level: 'silent' });
  private abort = new AbortController();
  private runningValue = false;
  private polling: Promise<R> | undefined;
  private pollCycle = 0;
  private pollLoop: PollLoop | undefined;

  constructor(
    readonly cloud: CloudNames,
    readonly account: string,
    options: ConnectorRuntimeOptions,
  ) {
    this.name = `${cloud.kind}:${account}`;
    this.now = options.now ?? (() => new Date());
    this.failingBills = new FailingBills(options.billRetry ?? BILL_RETRY_DEFAULTS, this.now);
    this.health = new ConnectorHealth({
      ...options,
      now: this.now,
      onAlert: (alert, previous) => this.alertChanged(alert, previous),
    });
  }

  /** An alert was raised or cleared (see ConnectorHealth); a cloud that raises alerts tells about them here. */
  protected alertChanged(_alert: HealthRecord | undefined, _previous: HealthRecord | undefined): void {}

  /** Sets the parts; a cloud's connector calls it once, from its constructor. */
  protected compose(parts: ConnectorParts<R>): void {
    this.parts = parts;
    this.sink = parts.sink;
    this.pollLoop = new PollLoop(
      () => this.pollOnce(),
      () => parts.source.pollIntervalMs(),
      (error) => {
        if (this.signal.aborted) return;
        this.logger.warn(
          { event: `${this.cloud.event}.poll.failed`, account: this.account, code: errorCode(error) },
          `${this.cloud.label} poll failed; will try again`,
        );
      },
    );
  }

  get logger(): Logger {
    return this.loggerValue;
  }

  /** Aborted at stop: every request of every part takes it. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get running(): boolean {
    return this.runningValue;
  }

  /** The agent's side while running; what is asked for before start or after stop fails with a typed error. */
  context(what: string): ConnectorContext {
    if (!this.contextValue || !this.runningValue) {
      throw new ConnectorNotStartedError(this.cloud, this.account, what);
    }
    return this.contextValue;
  }

  /** The context once started, whether or not still running (for work that may end after stop). */
  get startedContext(): ConnectorContext | undefined {
    return this.contextValue;
  }

  /** Runs one call to the cloud and keeps `status()` current. */
  track<T>(call: () => Promise<T>): Promise<T> {
    return this.health.track(call, () => this.signal.aborted);
  }

  async start(context: ConnectorContext): Promise<void> {
    if (this.runningValue) return;
    const parts = this.partsOrThrow();
    this.contextValue = context;
    this.loggerValue = context.logger.child({ connector: this.name });
    this.abort = new AbortController();
    if (context.failingBills) this.failingBills.attach(context.failingBills);
    for (const part of this.allParts()) await part.open?.();
    this.runningValue = true;
    for (const part of this.allParts()) await part.start?.();
    if (parts.source.polls) this.pollLoop?.start();
  }

  async stop(): Promise<void> {
    if (!this.runningValue) return;
    this.runningValue = false;
    this.pollLoop?.stop();
    this.abort.abort(new ConnectorStoppedError(this.cloud, this.account));
    await this.polling?.catch(() => undefined);
    await Promise.all(this.allParts().map((part) => part.stop?.()));
  }

  status(): ConnectorStatus {
    const details: Record<string, unknown> = { account: this.account };
    for (const part of this.allParts()) Object.assign(details, part.status?.());
    const status = this.health.status(this.name, details);
    if (this.failingBills.size > 0) status.failingBills = this.failingBills.list();
    return status;
  }

  /** One poll now (the loop, tests and the CLI call it); a poll already running is joined, not doubled. */
  pollOnce(): Promise<R> {
    if (!this.polling) {
      const number = ++this.pollCycle;
      const cycle: PollCycle = { number, trigger: { kind: 'poll', ref: `${this.name}#${number}` } };
      this.polling = this.partsOrThrow()
        .source.poll(cycle)
        .finally(() => {
          this.polling = undefined;
        });
    }
    return this.polling;
  }

  fiscalizeOnCommand(command: BillCommand): Promise<IntakeResult> {
    return this.partsOrThrow().source.fiscalizeOnCommand(command);
  }

  /**
   * Takes the bills of a poll cycle one at a time, in order, while the connector runs; `take` answers
   * 'stop' to end the cycle there (a queue that hands out one operation at a time). A bill that throws is
   * handled by `policy` (see BillPolicy): its own backoff, an alert, and on to the next bill. Without a
   * policy a failure ends the cycle. Returns how many bills were taken or passed over (the rest were left
   * for the next poll because the cycle stopped).
   */
  async eachBill<T>(
    bills: Iterable<T> | AsyncIterable<T>,
    take: (bill: T) => Promise<BillFailure | unknown>,
    policy?: BillPolicy<T>,
  ): Promise<number> {
    let taken = 0;
    for await (const bill of bills) {
      if (!this.runningValue) break;
      taken++;
      const billId = policy?.idOf(bill);
      if (billId !== undefined && !this.failingBills.due(billId)) {
        policy?.passedOver?.(bill);
        continue;
      }
      let next: unknown;
      try {
        next = await take(bill);
      } catch (error) {
        if (!policy || billId === undefined || this.signal.aborted || endsTheCycle(error)) throw error;
        // The cloud may have gone away mid-cycle: then the bill is not to blame and the rest would fail too.
        if (isCloudUnavailable(error) && policy.cloudUp) await policy.cloudUp();
        this.billFailed(billId, error);
        policy.failed?.(error, bill);
        continue;
      }
      if (billId !== undefined) this.billTaken(billId);
      if (next === 'stop') break;
    }
    return taken;
  }

  /** One warning per bill and per kind of failure; the retries after it are quiet (debug). */
  private billFailed(billId: string, error: unknown): void {
    const { bill, news } = this.failingBills.failed(billId, error);
    this.logger[news ? 'warn' : 'debug'](
      {
        event: `${this.cloud.event}.bill.failing`,
        account: this.account,
        billId,
        code: bill.code,
        failures: bill.failures,
        nextTryAt: bill.nextTryAt,
      },
      'a bill could not be taken; the newer bills go on, this one is tried again later',
    );
  }

  private billTaken(billId: string): void {
    const was = this.failingBills.succeeded(billId);
    if (!was) return;
    this.logger.info(
      { event: `${this.cloud.event}.bill.recovered`, account: this.account, billId, failures: was.failures },
      'a bill that was failing was taken',
    );
  }

  private partsOrThrow(): ConnectorParts<R> {
    if (!this.parts) throw new Error(`${this.name}: compose() was never called`);
    return this.parts;
  }

  private allParts(): ConnectorPart[] {
    const parts = this.partsOrThrow();
    return [parts.source, ...(parts.sink ? [parts.sink] : []), ...(parts.others ?? [])];
  }
}
