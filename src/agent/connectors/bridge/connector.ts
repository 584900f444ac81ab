import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { errorCode, KktAgentError, ValidationError } from '../../../lib/errors.js';
import { parseWithSchema } from '../../../lib/json.js';
import type { Bill } from '../../domain/index.js';
import type { BillKey, Job, JobTrigger } from '../../jobs/job.js';
import { DeliveryError } from '../../outbox/deliveryError.js';
import { ConnectorHealth } from '../health.js';
import { isCloudUnavailable } from '../http/errors.js';
import { PollLoop } from '../pollLoop.js';
import { deliveryErrorOf, isJobOf } from '../sink.js';
import type {
  AgentEvent,
  BillCommand,
  Connector,
  ConnectorContext,
  ConnectorStatus,
  IntakeResult,
  OutboxDraft,
  OutboxEntry,
  ReportSink,
} from '../types.js';
import { BridgeClient, type BridgeHello, type BridgeListFilter, type BridgeListItem } from './client.js';
import {
  type BridgeAccountConfig,
  type BridgeAccountInput,
  type BridgePaymentType,
  bridgeAccountSchema,
} from './config.js';
import {
  BridgeBillLookupError,
  BridgeNotStartedError,
  BridgeReportError,
  BridgeResponseTooLargeError,
} from './errors.js';
import {
  type BridgeIdentity,
  buildReceiptCreated,
  type ReceiptCreatedPayload,
  receiptCreatedPayloadSchema,
  withTimestamp,
} from './event.js';
import { resolveBridgeIdentity } from './identity.js';
import { BRIDGE_SOURCE, mapBridgeBill } from './mapping.js';

/**
 * One `/api/v2` bridge account: a source of bills (polled, or fetched on a cashier's command) and the sink
 * of their ReceiptCreated events. Bills stay in LIST after they are fiscalized
 * (docs/protocol/bridge-api-v2.md §9), so the intake's registry (`intake.find`) decides what is new, never
 * the bridge.
 */

export const RECEIPT_CREATED_KIND = 'bridge.receiptCreated';

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
  /** Bills that could not be fetched this time; the next poll tries again. */
  failed: number;
}

export interface BridgeConnectorOptions {
  now?: () => Date;
  /** Overrides the client's first backoff delay (tests keep it short). */
  retryDelayMs?: number;
}

interface BridgeState {
  hello?: BridgeHello;
  lastPoll?: { at: string; result: BridgePollResult };
}

export class BridgeConnector implements Connector {
  readonly name: string;
  readonly account: string;
  readonly config: BridgeAccountConfig;
  readonly sink: ReportSink;
  private readonly client: BridgeClient;
  private readonly now: () => Date;
  private logger: Logger = pino({ level: 'silent' });
  private context: ConnectorContext | undefined;
  private identityValue: BridgeIdentity | undefined;
  private state: BridgeState = {};
  private readonly health: ConnectorHealth;
  private readonly pollLoop = new PollLoop(
    () => this.pollOnce(),
    () => this.config.autoFiscalize.intervalMs,
    (error) =>
      this.logger.warn(
        { event: 'bridge.poll.failed', account: this.account, code: errorCode(error) },
        'bridge poll failed; will try again',
      ),
  );
  private polling: Promise<BridgePollResult> | undefined;
  private pollCycle = 0;
  private abort = new AbortController();
  private running = false;
  private startupHello: Promise<void> | undefined;

  constructor(config: BridgeAccountInput, options: BridgeConnectorOptions = {}) {
    this.config = parseWithSchema(bridgeAccountSchema, config, 'bridge');
    this.account = this.config.id;
    this.name = `bridge:${this.account}`;
    this.now = options.now ?? (() => new Date());
    this.health = new ConnectorHealth({ now: this.now, isOffline: isCloudUnavailable });
    this.client = new BridgeClient({
      account: this.account,
      baseUrl: this.config.baseUrl,
      auth: this.config.auth,
      timeoutMs: this.config.timeoutMs,
      retries: this.config.retries,
      retryDelayMs: options.retryDelayMs ?? this.config.retryDelayMs,
      maxResponseBytes: this.config.maxResponseBytes,
    });
    const name = this.name;
    this.sink = {
      name,
      draft: (event) => this.draft(event),
      deliver: (entry) => this.deliver(entry),
    };
  }

  /** The ids this account's events carry; known once the connector has started. */
  get identity(): BridgeIdentity | undefined {
    return this.identityValue;
  }

  async start(context: ConnectorContext): Promise<void> {
    if (this.running) return;
    this.context = context;
    this.logger = context.logger.child({ connector: this.name });
    this.client.setLogger(this.logger);
    this.abort = new AbortController();
    const { identity, generated } = await resolveBridgeIdentity(this.config.ids, context.store, this.now());
    this.identityValue = identity;
    if (generated.length > 0) {
      this.logger.info(
        { event: 'bridge.identity.generated', account: this.account, ids: generated },
        'generated and stored the Evotor-style ids of this bridge account',
      );
    }
    this.running = true;
    // Not awaited: a bridge that is down or hanging must not hold up the agent's start (its retries and
    // timeouts can take a while). status() shows the outcome; polls and commands say HELLO again anyway.
    this.startupHello = this.hello().then(
      () => undefined,
      () => undefined,
    );
    if (this.config.autoFiscalize.enabled) this.pollLoop.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.pollLoop.stop();
    this.abort.abort(new KktAgentError('BRIDGE_STOPPED', `Bridge ${this.account}: the connector stopped.`));
    await Promise.all([this.polling?.catch(() => undefined), this.startupHello]);
  }

  status(): ConnectorStatus {
    return this.health.status(this.name, {
      account: this.account,
      system: this.state.hello?.system,
      systems: this.state.hello?.systems,
      protocol: this.state.hello?.protocol,
      autoFiscalize: this.config.autoFiscalize.enabled,
      filter: this.config.autoFiscalize.filter,
      lastPoll: this.state.lastPoll,
    });
  }

  // --- bill intake ------------------------------------------------------------------------------------

  /** One auto-fiscalization cycle: HELLO, LIST (the configured filter), then every unknown bill, oldest first. */
  pollOnce(): Promise<BridgePollResult> {
    if (!this.polling) {
      this.polling = this.runPoll().finally(() => {
        this.polling = undefined;
      });
    }
    return this.polling;
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
    this.requireContext('fiscalize a bill');
    await this.hello();
    const rows = await this.track(() => this.client.list({ kind: 'number', number }, this.abort.signal));
    const ids = [...new Set(rows.filter((row) => row.number === number).map((row) => row.id))];
    if (ids.length !== 1) throw new BridgeBillLookupError(this.account, number, ids.length);
    return this.fiscalizeKnownId(ids[0]!, number, options);
  }

  /** A bill id (from LIST): HELLO, BILL, then the intake. A bill the agent already has is not fetched again. */
  async fiscalizeById(id: string, options: FiscalizeOptions = {}): Promise<IntakeResult> {
    this.requireContext('fiscalize a bill');
    await this.hello();
    return this.fiscalizeKnownId(id, undefined, options);
  }

  private async fiscalizeKnownId(
    id: string,
    number: string | undefined,
    options: FiscalizeOptions,
  ): Promise<IntakeResult> {
    const intake = this.requireContext('fiscalize a bill').intake;
    const existing = intake.find(this.keyOf(id));
    // A FAILED bill (malformed at the time) may have been corrected in the CRM: a command fetches it again
    // and lets the intake decide. Anything else is answered with the job it already has.
    if (existing && existing.state !== 'FAILED') {
      this.logger.info(
        { event: 'bridge.bill.duplicate', account: this.account, billId: id, jobId: existing.id },
        'bill already known; nothing new will print',
      );
      return { job: existing, duplicate: true };
    }
    return this.fetchAndSubmit(id, number, options.payment, {
      ...(options.trigger ?? { kind: 'command' }),
    });
  }

  private async runPoll(): Promise<BridgePollResult> {
    const intake = this.requireContext('poll').intake;
    const cycle = ++this.pollCycle;
    const result: BridgePollResult = {
      listed: 0,
      known: 0,
      skipped: 0,
      submitted: 0,
      rejected: 0,
      failed: 0,
    };
    const { notBefore } = this.config.autoFiscalize;
    await this.hello();
    const filter: BridgeListFilter =
      this.config.autoFiscalize.filter === 'today' ? { kind: 'today' } : { kind: 'all' };
    const rows: BridgeListItem[] = await this.track(() => this.client.list(filter, this.abort.signal));
    result.listed = rows.length;
    // LIST runs newest first; the oldest bill goes first to the register.
    for (const row of [...rows].reverse()) {
      if (!this.running) break;
      // Both sides are `YYYY-MM-DD[ HH:mm:ss]`, so text order is time order.
      if (notBefore !== undefined && row.date !== undefined && row.date < notBefore) {
        result.skipped++;
        continue;
      }
      if (intake.find(this.keyOf(row.id))) {
        result.known++;
        continue;
      }
      try {
        const outcome = await this.fetchAndSubmit(row.id, row.number, undefined, {
          kind: 'poll',
          ref: `${this.name}#${cycle}`,
        });
        if (outcome.job.state === 'FAILED' && !outcome.duplicate) result.rejected++;
        else if (!outcome.duplicate) result.submitted++;
        else result.known++;
      } catch (error) {
        result.failed++;
        this.logger.warn(
          {
            event: 'bridge.bill.fetch_failed',
            account: this.account,
            billId: row.id,
            code: errorCode(error),
          },
          'could not fetch a listed bill; the next poll tries again',
        );
        // The bridge went away mid-cycle: the remaining bills would fail the same way.
        if (isCloudUnavailable(error) || this.abort.signal.aborted) break;
      }
    }
    this.state.lastPoll = { at: this.now().toISOString(), result };
    this.logger[result.submitted + result.rejected > 0 ? 'info' : 'debug'](
      { event: 'bridge.poll.completed', account: this.account, cycle, ...result },
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
    const intake = this.requireContext('fiscalize a bill').intake;
    let raw: unknown;
    try {
      raw = await this.track(() => this.client.bill(id, this.abort.signal));
    } catch (error) {
      // An oversized bill stays oversized: record it as FAILED with the reason instead of fetching it forever.
      if (!(error instanceof BridgeResponseTooLargeError)) throw error;
      this.logger.warn(
        { event: 'bridge.bill.rejected', account: this.account, billId: id, code: error.code },
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
        account: this.account,
        payment: this.config.defaultPayment,
        ...(commandPayment !== undefined ? { commandPayment } : {}),
        expectedId: id,
      });
    } catch (error) {
      if (!(error instanceof KktAgentError)) throw error;
      const field = error instanceof ValidationError ? error.field : error.details['field'];
      this.logger.warn(
        { event: 'bridge.bill.rejected', account: this.account, billId: id, code: error.code, field },
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
    this.logger.info(
      {
        event: 'bridge.bill.submitted',
        account: this.account,
        billId: id,
        jobId: result.job.id,
        duplicate: result.duplicate,
        trigger: trigger.kind,
      },
      result.duplicate ? 'bill already known' : 'bill handed to the fiscalizer',
    );
    return result;
  }

  private async hello(): Promise<BridgeHello> {
    const hello = await this.track(() => this.client.hello(this.abort.signal));
    const changed = this.state.hello?.system !== hello.system;
    this.state.hello = hello;
    if (changed) {
      this.logger.info(
        { event: 'bridge.hello', account: this.account, system: hello.system, protocol: hello.protocol },
        'bridge said hello',
      );
    }
    return hello;
  }

  /** Runs one client call and keeps `status()` current. */
  private track<T>(call: () => Promise<T>): Promise<T> {
    return this.health.track(call, () => this.abort.signal.aborted);
  }

  private keyOf(billId: string): BillKey {
    return { source: BRIDGE_SOURCE, account: this.account, billId };
  }

  private requireContext(what: string): ConnectorContext {
    if (!this.context || !this.running) throw new BridgeNotStartedError(this.account, what);
    return this.context;
  }

  // --- report sink ------------------------------------------------------------------------------------

  /** A ReceiptCreated for each fiscalized sale of this account's bills; ids are generated here, once. */
  private draft(event: AgentEvent): OutboxDraft[] {
    if (event.type !== 'job.fiscalized') return [];
    const { job } = event;
    if (!this.isOurs(job)) return [];
    if (job.operation !== 'sell') {
      // The POS app's event for a return is unknown (docs/protocol/bridge-api-v2.md §11); nothing is sent
      // rather than a guess.
      this.logger.warn(
        { event: 'bridge.report.skipped', account: this.account, jobId: job.id, operation: job.operation },
        'no ReceiptCreated for a return',
      );
      return [];
    }
    const identity = this.identityValue;
    if (!identity) throw new BridgeNotStartedError(this.account, 'draft a ReceiptCreated');
    if (!job.bill) throw new BridgeReportError(this.account, job.id, 'the job has no bill');
    if (!job.fiscal) throw new BridgeReportError(this.account, job.id, 'the job has no fiscal data');
    let receipt: ReturnType<typeof buildReceiptCreated>;
    try {
      receipt = buildReceiptCreated({
        bill: job.bill,
        fiscal: job.fiscal,
        identity,
        eventId: randomUUID(),
        receiptId: randomUUID(),
      });
    } catch (error) {
      if (error instanceof ValidationError) throw new BridgeReportError(this.account, job.id, error.message);
      throw error;
    }
    const payload: ReceiptCreatedPayload = { account: this.account, billId: job.bill.billId, event: receipt };
    return [{ kind: RECEIPT_CREATED_KIND, jobId: job.id, payload }];
  }

  private isOurs(job: Job): boolean {
    return isJobOf(job, BRIDGE_SOURCE, this.account);
  }

  /**
   * POSTs the drafted event with this send's timestamp. Throws DeliveryError: permanent for a 4xx other
   * than 408/429 (and for a payload that is not ours), retryable otherwise, with `Retry-After` honoured.
   */
  private async deliver(entry: OutboxEntry): Promise<void> {
    const parsed = receiptCreatedPayloadSchema.safeParse(entry.payload);
    if (entry.kind !== RECEIPT_CREATED_KIND || !parsed.success) {
      throw new DeliveryError(
        'BRIDGE_REPORT_MALFORMED',
        `Bridge ${this.account}: outbox entry ${entry.id} is not a ReceiptCreated draft of this connector.`,
        { permanent: true, details: { account: this.account, entryId: entry.id, kind: entry.kind } },
      );
    }
    // The stored draft, not the schema's copy: its key order is the one that was drafted.
    const { event, billId } = entry.payload as ReceiptCreatedPayload;
    const body = JSON.stringify(withTimestamp(event, this.now().getTime()));
    try {
      const answer = await this.track(() => this.client.postReceipt(body, this.abort.signal));
      this.logger.info(
        {
          event: 'bridge.receipt.delivered',
          account: this.account,
          billId,
          jobId: entry.jobId,
          status: answer.status,
          answerBytes: answer.bodyBytes,
        },
        'ReceiptCreated delivered',
      );
    } catch (error) {
      throw deliveryErrorOf(
        error,
        { account: this.account, billId, entryId: entry.id },
        'BRIDGE_DELIVERY_FAILED',
      );
    }
  }
}

/** The bill number of a raw bill that failed mapping, if it has a readable one. */
function numberOf(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const number = (raw as { number?: unknown }).number;
  return typeof number === 'string' && number.length <= 64 ? number : undefined;
}
