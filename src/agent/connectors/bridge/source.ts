import { KktAgentError, ValidationError } from '../../../lib/errors.js';
import type { Bill } from '../../domain/index.js';
import type { IntakeResult } from '../../jobs/intake.js';
import type { BillKey, JobTrigger } from '../../jobs/job.js';
import type { BillSource, ConnectorRuntime, PollCycle } from '../runtime.js';
import type { BillCommand } from '../types.js';
import type { BridgeClient, BridgeHello, BridgeListFilter } from './client.js';
import type { BridgeAccountConfig, BridgePaymentType } from './config.js';
import { BridgeBillLookupError, BridgeResponseTooLargeError } from './errors.js';
import { BRIDGE_SOURCE, mapBridgeBill } from './mapping.js';

/**
 * The bills of one `/api/v2` bridge account: polled (HELLO, LIST, then every unknown bill, oldest first) or
 * fetched on a cashier's command. Bills stay in LIST after they are fiscalized (docs/protocol/bridge-api-v2.md §9), so the
 * intake's registry (`intake.find`) decides what is new, never the bridge.
 */

export interface FiscalizeOptions {
  /** The payment that covers the whole bill; default: the bill's own `paymentSource`, else the account's `defaultPayment`. */
  payment?: BridgePaymentType;
  /** Default `{ kind: 'command' }`. */
  trigger?: JobTrigger;
}

export interface BridgePollResult {
  /** Rows LIST returned. */
  listed: number;
  /** Already known to the intake: skipped without a BILL request. */
  known: number;
  /** Dated before `autoFiscalize.notBefore`: left alone. */
  skipped: number;
  /** Handed to the intake as new jobs. */
  submitted: number;
  /** Malformed bills recorded as FAILED jobs. */
  rejected: number;
  /** Bills that could not be fetched this time; each is tried again after its own backoff. */
  failed: number;
  /** Bills that failed before and whose backoff has not passed: not asked for this time. */
  waiting: number;
}

export class BridgeSource implements BillSource<BridgePollResult> {
  private hello: BridgeHello | undefined;
  private lastPoll: { at: string; result: BridgePollResult } | undefined;
  private startupHello: Promise<void> | undefined;

  constructor(
    private readonly runtime: ConnectorRuntime<BridgePollResult>,
    private readonly client: BridgeClient,
    private readonly config: BridgeAccountConfig,
  ) {}

  get polls(): boolean {
    return this.config.autoFiscalize.enabled;
  }

  pollIntervalMs(): number {
    return this.config.autoFiscalize.intervalMs;
  }

  start(): void {
    this.client.setLogger(this.runtime.logger);
    // Not awaited: a bridge that is down or hanging must not hold up the agent's start (its retries and
    // timeouts can take a while). status() shows the outcome; polls and commands say HELLO again anyway.
    this.startupHello = this.sayHello().then(
      () => undefined,
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    await this.startupHello;
  }

  status(): Record<string, unknown> {
    return {
      system: this.hello?.system,
      systems: this.hello?.systems,
      protocol: this.hello?.protocol,
      autoFiscalize: this.config.autoFiscalize.enabled,
      filter: this.config.autoFiscalize.filter,
      lastPoll: this.lastPoll,
    };
  }

  /** The agent's command entry point (control socket, MQTT): by `number` or by `billId`. */
  fiscalizeOnCommand(command: BillCommand): Promise<IntakeResult> {
    const options: FiscalizeOptions = { trigger: command.trigger };
    if (command.payment !== undefined) options.payment = command.payment;
    if (command.billId !== undefined) return this.fiscalizeById(command.billId, options);
    if (command.number !== undefined) return this.fiscalizeByNumber(command.number, options);
    return Promise.reject(new ValidationError('number', 'give a bill number or a bill id'));
  }

  /** A cashier's bill number: HELLO, `LIST?number=N`, then as fiscalizeById. */
  async fiscalizeByNumber(number: string, options: FiscalizeOptions = {}): Promise<IntakeResult> {
    this.runtime.context('fiscalize a bill');
    await this.sayHello();
    const rows = await this.runtime.track(() =>
      this.client.list({ kind: 'number', number }, this.runtime.signal),
    );
    const ids = [...new Set(rows.filter((row) => row.number === number).map((row) => row.id))];
    if (ids.length !== 1) throw new BridgeBillLookupError(this.runtime.account, number, ids.length);
    return this.fiscalizeKnownId(ids[0]!, number, options);
  }

  /** A bill id (from LIST): HELLO, BILL, then the intake. A bill the agent already has is not fetched again. */
  async fiscalizeById(id: string, options: FiscalizeOptions = {}): Promise<IntakeResult> {
    this.runtime.context('fiscalize a bill');
    await this.sayHello();
    return this.fiscalizeKnownId(id, undefined, options);
  }

  private async fiscalizeKnownId(
    id: string,
    number: string | undefined,
    options: FiscalizeOptions,
  ): Promise<IntakeResult> {
    const intake = this.runtime.context('fiscalize a bill').intake;
    const existing = intake.find(this.keyOf(id));
    // A FAILED bill (malformed at the time) may have been corrected in the CRM: a command fetches it again
    // and lets the intake decide. Anything else is answered with the job it already has.
    if (existing && existing.state !== 'FAILED') {
      this.runtime.logger.info(
        { event: 'bridge.bill.duplicate', account: this.runtime.account, billId: id, jobId: existing.id },
        'bill already known; nothing new will print',
      );
      return { job: existing, duplicate: true };
    }
    return this.fetchAndSubmit(id, number, options.payment, {
      ...(options.trigger ?? { kind: 'command' }),
    });
  }

  /** One auto-fiscalization cycle: HELLO, LIST (the configured filter), then every unknown bill, oldest first. */
  async poll(cycle: PollCycle): Promise<BridgePollResult> {
    const { runtime } = this;
    const intake = runtime.context('poll').intake;
    const result: BridgePollResult = {
      listed: 0,
      known: 0,
      skipped: 0,
      submitted: 0,
      rejected: 0,
      failed: 0,
      waiting: 0,
    };
    const { notBefore } = this.config.autoFiscalize;
    await this.sayHello();
    const filter: BridgeListFilter =
      this.config.autoFiscalize.filter === 'today' ? { kind: 'today' } : { kind: 'all' };
    const rows = await runtime.track(() => this.client.list(filter, runtime.signal));
    result.listed = rows.length;
    // LIST runs newest first; the oldest bill goes first to the register.
    await runtime.eachBill(
      [...rows].reverse(),
      async (row) => {
        // Both sides are `YYYY-MM-DD[ HH:mm:ss]`, so text order is time order.
        if (notBefore !== undefined && row.date !== undefined && row.date < notBefore) {
          result.skipped++;
          return;
        }
        if (intake.find(this.keyOf(row.id))) {
          result.known++;
          return;
        }
        const outcome = await this.fetchAndSubmit(row.id, row.number, undefined, cycle.trigger);
        if (outcome.job.state === 'FAILED' && !outcome.duplicate) result.rejected++;
        else if (!outcome.duplicate) result.submitted++;
        else result.known++;
        return;
      },
      {
        idOf: (row) => row.id,
        passedOver: () => {
          result.waiting++;
        },
        // BILL failed as the bridge would if it were down: only HELLO can tell the bill from the bridge.
        cloudUp: () => this.sayHello(),
        failed: () => {
          result.failed++;
        },
      },
    );
    runtime.failingBills.keepOnly(new Set(rows.map((row) => row.id)));
    this.lastPoll = { at: runtime.now().toISOString(), result };
    runtime.logger[result.submitted + result.rejected > 0 ? 'info' : 'debug'](
      { event: 'bridge.poll.completed', account: runtime.account, cycle: cycle.number, ...result },
      'bridge poll completed',
    );
    return result;
  }

  /** `commandPayment`: what a person's command said; else the bill's own field, else the account default. */
  private async fetchAndSubmit(
    id: string,
    number: string | undefined,
    commandPayment: BridgePaymentType | undefined,
    trigger: JobTrigger,
  ): Promise<IntakeResult> {
    const { runtime } = this;
    const intake = runtime.context('fiscalize a bill').intake;
    let raw: unknown;
    try {
      raw = await runtime.track(() => this.client.bill(id, runtime.signal));
    } catch (error) {
      // An oversized bill stays oversized: record it as FAILED with the reason instead of fetching it forever.
      if (!(error instanceof BridgeResponseTooLargeError)) throw error;
      runtime.logger.warn(
        { event: 'bridge.bill.rejected', account: runtime.account, billId: id, code: error.code },
        'the bill is too large',
      );
      return intake.reject({
        key: this.keyOf(id),
        ...(number !== undefined ? { number } : {}),
        error,
        trigger,
      });
    }
    let bill: Bill;
    try {
      bill = mapBridgeBill(raw, {
        account: runtime.account,
        payment: this.config.defaultPayment,
        prepayment: this.config.prepayment,
        ...(commandPayment !== undefined ? { commandPayment } : {}),
        expectedId: id,
      });
    } catch (error) {
      if (!(error instanceof KktAgentError)) throw error;
      const field = error instanceof ValidationError ? error.field : error.details['field'];
      runtime.logger.warn(
        { event: 'bridge.bill.rejected', account: runtime.account, billId: id, code: error.code, field },
        'the bridge sent a bill that cannot be fiscalized',
      );
      const rejectNumber = number ?? numberOf(raw);
      return intake.reject({
        key: this.keyOf(id),
        ...(rejectNumber !== undefined ? { number: rejectNumber } : {}),
        error,
        trigger,
      });
    }
    const result = await intake.submit({
      bill,
      trigger,
      ...(this.config.device !== undefined ? { deviceId: this.config.device } : {}),
    });
    runtime.logger.info(
      {
        event: 'bridge.bill.submitted',
        account: runtime.account,
        billId: id,
        jobId: result.job.id,
        duplicate: result.duplicate,
        trigger: trigger.kind,
      },
      result.duplicate ? 'bill already known' : 'bill handed to the fiscalizer',
    );
    return result;
  }

  private async sayHello(): Promise<BridgeHello> {
    const hello = await this.runtime.track(() => this.client.hello(this.runtime.signal));
    const changed = this.hello?.system !== hello.system;
    this.hello = hello;
    if (changed) {
      this.runtime.logger.info(
        {
          event: 'bridge.hello',
          account: this.runtime.account,
          system: hello.system,
          protocol: hello.protocol,
        },
        'bridge said hello',
      );
    }
    return hello;
  }

  private keyOf(billId: string): BillKey {
    return { source: BRIDGE_SOURCE, account: this.runtime.account, billId };
  }
}

/** The bill number of a raw bill that failed mapping, if it has a readable one. */
function numberOf(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const number = (raw as { number?: unknown }).number;
  return typeof number === 'string' && number.length <= 64 ? number : undefined;
}
