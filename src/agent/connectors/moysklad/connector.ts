import { randomUUID } from 'node:crypto';
import { hostname, release, type } from 'node:os';
import pino, { type Logger } from 'pino';
import type { z } from 'zod';
import { errorCode, errorMessage, KktAgentError, ValidationError } from '../../../lib/errors.js';
import { parseWithSchema } from '../../../lib/json.js';
import type { DeviceSnapshot } from '../../devices/device.js';
import type { BillKey, Job, JobTrigger } from '../../jobs/job.js';
import { DeliveryError } from '../../outbox/deliveryError.js';
import { ConnectorHealth } from '../health.js';
import { PollLoop } from '../pollLoop.js';
import { deliveryErrorOf, isJobOf } from '../sink.js';
import type {
  AgentEvent,
  BillCommand,
  BillIntake,
  Connector,
  ConnectorContext,
  ConnectorStatus,
  IntakeResult,
  OutboxDraft,
  OutboxEntry,
  ReportSink,
  ShiftEvent,
} from '../types.js';
import { cashierByUid, type MoyskladCashier, storeCashiers } from './cashiers.js';
import { MoyskladClient } from './client.js';
import { type MoyskladAccountConfig, type MoyskladAccountInput, moyskladAccountSchema } from './config.js';
import { credentialsFingerprint, type LoadedCredentials, readCredentials } from './credentials.js';
import {
  MoyskladApiError,
  MoyskladAuthError,
  MoyskladBillError,
  MoyskladCredentialsError,
  MoyskladDuplicateError,
  MoyskladMalformedResponseError,
  MoyskladNotStartedError,
  MoyskladOrderLookupError,
  MoyskladRateLimitError,
  MoyskladReportError,
  MoyskladShiftUnknownError,
} from './errors.js';
import {
  customerOrderBillId,
  customerOrderSkipReason,
  fieldOf,
  MOYSKLAD_SOURCE,
  mapCustomerOrder,
  mapMasterOperation,
  masterOperationKey,
  parseCustomerOrder,
  readSourceData,
} from './mapping.js';
import { RateLimiter } from './rateLimiter.js';
import {
  type ApproveDraft,
  approveDraftSchema,
  type ChequeDraft,
  type CloseShiftDraft,
  closeShiftDraftSchema,
  type OpenShiftDraft,
  openShiftDraftSchema,
  REPORT_KINDS,
  type RejectDraft,
  type RenderContext,
  type RetailDemandDraft,
  rejectDraftSchema,
  renderApprove,
  renderCloseShift,
  renderOpenShift,
  renderReject,
  renderRetailDemand,
  retailDemandDraftSchema,
  type ShiftRef,
} from './reports.js';
import { type ShiftCheque, type ShiftRecord, ShiftRegistry } from './shifts.js';
import { buildStateBody, chequePrinterOf, stateFingerprint } from './state.js';
import {
  formatMoment,
  isMoyskladTaxSystem,
  moyskladTaxSystemOf,
  normalizeBaseUrl,
  syncMeta,
  UUID_PATTERN,
} from './wire.js';

/**
 * One MoySklad retail store: a source of bills (the master cloud-cheque queue, or posted customer orders)
 * and the sink that reports shifts and receipts back through posap 1.0. Reports are drafted once with
 * their syncIds and delivered in FIFO order, so MoySklad sees "shift open → documents → shift close" even
 * after hours offline; a replay after a lost answer is recognised (3006 on the same syncId) and counted as
 * delivered. `POST /state` (register health) is sent on its own schedule, latest wins, never queued.
 */

export interface MoyskladConnectorOptions {
  now?: () => Date;
  /** `environment.software.version` and the driver version in `chequePrinter`. */
  softwareVersion?: string;
  /** `environment.device` when the config names none. */
  hostname?: string;
  /** A limiter shared with other connectors of the same cashier (posap counts per user). */
  limiter?: RateLimiter;
}

export interface MoyskladPollResult {
  /** Master: operations taken from the queue; orders: rows listed. */
  seen: number;
  /** Handed to the intake as new jobs. */
  submitted: number;
  /** Recorded as FAILED jobs (cannot be fiscalized as they stand); master mode sends a reject. */
  rejected: number;
  /** Already known to the intake. */
  known: number;
  /** Left alone: filtered out, paid, shipped (orders). */
  skipped: number;
  /** Not readable at all (no meta, not an order). */
  unreadable: number;
}

interface Settings {
  /** The store's cashiers, for the receipt's cashier (tags 1021, 1203). */
  cashiers: MoyskladCashier[];
  organizationId?: string;
  fiscalType?: string;
  defaultTaxSystem?: string;
  orderTaxSystem?: string;
  storeName: string;
  loadedAt: number;
}

interface Alert {
  code: string;
  message: string;
  at: string;
}

const STOPPED = () => new KktAgentError('MOYSKLAD_STOPPED', 'The MoySklad connector stopped.');

export class MoyskladConnector implements Connector {
  readonly name: string;
  readonly account: string;
  readonly config: MoyskladAccountConfig;
  readonly sink: ReportSink;
  readonly limiter: RateLimiter;
  private readonly client: MoyskladClient;
  private readonly shifts = new ShiftRegistry();
  private readonly now: () => Date;
  private readonly softwareVersion: string;
  private readonly deviceName: string;
  private logger: Logger = pino({ level: 'silent' });
  private context: ConnectorContext | undefined;
  private running = false;
  private abort = new AbortController();
  private credentials: LoadedCredentials | undefined;
  private credentialsLoading: Promise<LoadedCredentials> | undefined;
  private settingsValue: Settings | undefined;
  private readonly snapshots = new Map<string, DeviceSnapshot>();
  private snapshotsLoading: Promise<void> | undefined;
  /** Metas of polled operations, for rejects of operations that never became a bill. */
  private readonly operationMetas = new Map<string, Record<string, string | number | boolean | null>>();
  private readonly pollLoop = new PollLoop(
    () => this.pollOnce(),
    // While a person must re-pair, poll at the slower auth pace instead of hammering with a dead token.
    () =>
      this.alert ? Math.max(this.config.pollIntervalMs, this.config.authRetryMs) : this.config.pollIntervalMs,
    (error) => {
      if (this.abort.signal.aborted) return;
      this.logger.warn(
        { event: 'moysklad.poll.failed', account: this.account, code: errorCode(error) },
        'MoySklad poll failed; will try again',
      );
    },
  );
  private stateTimer: NodeJS.Timeout | undefined;
  private polling: Promise<MoyskladPollResult> | undefined;
  private stateRun: Promise<void> | undefined;
  private pollCycle = 0;
  private readonly health: ConnectorHealth;
  private alert: Alert | undefined;
  private lastPoll: { at: string; result: MoyskladPollResult } | undefined;
  private stateSent: { at: number; fingerprint: string } | undefined;
  private stateError: Alert | undefined;
  private readonly warnings = new Set<string>();

  constructor(config: MoyskladAccountInput, options: MoyskladConnectorOptions = {}) {
    this.config = parseWithSchema(moyskladAccountSchema, config, 'moysklad');
    this.account = this.config.id;
    this.name = `moysklad:${this.account}`;
    this.now = options.now ?? (() => new Date());
    this.health = new ConnectorHealth({ now: this.now, isOffline });
    this.softwareVersion = options.softwareVersion ?? 'unknown';
    this.deviceName = this.config.state.deviceName ?? options.hostname ?? hostname();
    this.limiter = options.limiter ?? new RateLimiter(this.config.rateLimit);
    this.client = new MoyskladClient({
      account: this.account,
      baseUrl: this.config.baseUrl,
      auth: () =>
        this.credentials
          ? {
              kind: 'token',
              token: this.credentials.credentials.token,
              cashierUid: this.credentials.credentials.cashierUid,
            }
          : undefined,
      limiter: this.limiter,
      timeoutMs: this.config.timeoutMs,
      retries: this.config.retries,
      retryDelayMs: this.config.retryDelayMs,
      maxRetryDelayMs: this.config.maxRetryDelayMs,
      maxRateLimitWaits: this.config.maxRateLimitWaits,
      maxResponseBytes: this.config.maxResponseBytes,
    });
    this.sink = {
      name: this.name,
      draft: (event) => this.draft(event),
      deliver: (entry) => this.deliver(entry),
    };
  }

  // --- lifecycle ----------------------------------------------------------------------------------------

  async start(context: ConnectorContext): Promise<void> {
    if (this.running) return;
    // Before anything awaits: drafts made from now on see the persisted shifts.
    this.shifts.attach(context.store);
    this.context = context;
    this.logger = context.logger.child({ connector: this.name });
    this.client.setLogger(this.logger);
    this.abort = new AbortController();
    this.running = true;
    try {
      await this.ensureCredentials();
    } catch (error) {
      // The agent starts anyway; status shows why this store is idle, and every poll tries the file again.
      this.logger.error(
        { event: 'moysklad.credentials.unusable', account: this.account, code: errorCode(error) },
        'MoySklad credentials are not usable; run `kkt-agent moysklad pair`',
      );
    }
    this.refreshSnapshots();
    if (this.config.mode === 'master' || this.config.customerOrders.autoFiscalize) this.pollLoop.start();
    if (this.config.state.enabled) this.scheduleState(0);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.pollLoop.stop();
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = undefined;
    this.abort.abort(STOPPED());
    await Promise.all([
      this.polling?.catch(() => undefined),
      this.stateRun?.catch(() => undefined),
      this.snapshotsLoading,
    ]);
    await this.shifts.flush();
  }

  status(): ConnectorStatus {
    const credentials = this.credentials?.credentials;
    const status: ConnectorStatus = {
      name: this.name,
      online: this.health.online && this.alert === undefined,
      details: {
        account: this.account,
        mode: this.config.mode,
        store: credentials
          ? { id: credentials.retailStore.id, name: credentials.retailStore.name }
          : undefined,
        cashierUid: credentials?.cashierUid,
        organizationId: this.organizationIdKnown(),
        fiscalType: this.settingsValue?.fiscalType,
        alert: this.alert,
        warnings: [...this.warnings],
        shifts: this.shifts.current().map((record) => ({
          deviceId: record.deviceId,
          number: record.number,
          syncId: record.syncId,
          openmoment: record.openmoment,
          receipts: record.receipts,
          adopted: record.adopted,
        })),
        lastPoll: this.lastPoll,
        state: {
          lastSentAt: this.stateSent ? new Date(this.stateSent.at).toISOString() : undefined,
          lastError: this.stateError,
        },
        rateLimiter: this.limiter.stats,
        requests: this.client.stats,
      },
    };
    if (this.health.lastSuccessAt !== undefined) status.lastSuccessAt = this.health.lastSuccessAt;
    const lastError = this.alert ?? this.health.lastError;
    if (lastError !== undefined) status.lastError = lastError;
    return status;
  }

  // --- credentials and settings -------------------------------------------------------------------------

  /**
   * The token, read from the credentials file at start and again whenever the file changed (a re-pairing)
   * while the token is refused or missing. A changed token lifts the re-pair alert.
   */
  private async ensureCredentials(): Promise<LoadedCredentials> {
    const current = this.credentials;
    if (current && this.alert?.code !== 'MOYSKLAD_REPAIR_REQUIRED') return current;
    if (current) {
      const fingerprint = await credentialsFingerprint(this.config.credentialsFile);
      if (fingerprint === current.fingerprint) return current;
    }
    this.credentialsLoading ??= readCredentials(this.config.credentialsFile).finally(() => {
      this.credentialsLoading = undefined;
    });
    let loaded: LoadedCredentials;
    try {
      loaded = await this.credentialsLoading;
    } catch (error) {
      if (!current) this.raiseAlert(error);
      if (current) return current;
      throw error;
    }
    const tooOpen = `${this.config.credentialsFile} is readable by others; chmod 600 it`;
    if (loaded.tooOpen) this.warnings.add(tooOpen);
    else this.warnings.delete(tooOpen);
    const otherHost = `the credentials were made for ${loaded.credentials.baseUrl}, the config says ${this.client.baseUrl}`;
    for (const warning of this.warnings)
      if (warning.startsWith('the credentials were made for')) this.warnings.delete(warning);
    if (normalizeBaseUrl(loaded.credentials.baseUrl) !== this.client.baseUrl) this.warnings.add(otherHost);
    const changed = current?.credentials.token !== loaded.credentials.token;
    this.credentials = loaded;
    if (changed) {
      if (current) {
        this.logger.info(
          {
            event: 'moysklad.credentials.reloaded',
            account: this.account,
            store: loaded.credentials.retailStore.id,
          },
          'new MoySklad credentials loaded',
        );
      }
      if (this.alert) this.clearAlert();
      this.settingsValue = undefined;
    }
    return loaded;
  }

  private async settings(): Promise<Settings | undefined> {
    const cached = this.settingsValue;
    if (cached && Date.now() - cached.loadedAt < this.config.settingsRefreshMs) return cached;
    await this.ensureCredentials();
    try {
      const store = await this.track(() => this.client.settings(this.abort.signal));
      const settings: Settings = {
        storeName: store.name,
        loadedAt: Date.now(),
        cashiers: storeCashiers(store),
      };
      if (store.organization?.id) settings.organizationId = store.organization.id;
      if (store.fiscalType) settings.fiscalType = store.fiscalType;
      if (store.defaultTaxSystem) settings.defaultTaxSystem = store.defaultTaxSystem;
      if (store.orderTaxSystem) settings.orderTaxSystem = store.orderTaxSystem;
      this.settingsValue = settings;
      const warning =
        'the store is not a master cash register (fiscalType is not MASTER): the queue stays empty';
      if (this.config.mode === 'master' && store.fiscalType !== undefined && store.fiscalType !== 'MASTER') {
        if (!this.warnings.has(warning)) {
          this.logger.warn(
            { event: 'moysklad.settings.not_master', account: this.account, fiscalType: store.fiscalType },
            warning,
          );
        }
        this.warnings.add(warning);
      } else {
        this.warnings.delete(warning);
      }
      return settings;
    } catch (error) {
      // Settings only refine things (tax system, organization); stale ones are better than none.
      if (cached) return cached;
      throw error;
    }
  }

  private organizationIdKnown(): string | undefined {
    return this.settingsValue?.organizationId ?? this.credentials?.credentials.organizationId;
  }

  private defaultTaxSystem(kind: 'order' | 'master'): string | undefined {
    const settings = this.settingsValue;
    const code =
      kind === 'order'
        ? (settings?.orderTaxSystem ?? settings?.defaultTaxSystem)
        : settings?.defaultTaxSystem;
    return isMoyskladTaxSystem(code) ? code : undefined;
  }

  // --- status bookkeeping -----------------------------------------------------------------------------

  private async track<T>(call: () => Promise<T>): Promise<T> {
    try {
      const value = await call();
      this.health.succeeded();
      if (this.alert) this.clearAlert();
      return value;
    } catch (error) {
      if (!this.abort.signal.aborted) this.noteError(error);
      throw error;
    }
  }

  private noteError(error: unknown): void {
    this.health.failed(error);
    if (needsPerson(error)) this.raiseAlert(error);
  }

  private raiseAlert(error: unknown): void {
    const code = errorCode(error);
    const first = this.alert?.code !== code;
    this.alert = {
      code,
      message: errorMessage(error),
      at: this.alert && !first ? this.alert.at : this.now().toISOString(),
    };
    if (first) {
      this.logger.error(
        { event: 'moysklad.alert', account: this.account, code },
        `MoySklad needs a person: ${code}`,
      );
      this.kickState();
    }
  }

  private clearAlert(): void {
    this.logger.info(
      { event: 'moysklad.alert.cleared', account: this.account, code: this.alert?.code },
      'MoySklad alert cleared',
    );
    this.alert = undefined;
    this.kickState();
  }

  // --- polling ---------------------------------------------------------------------------------------

  /** One poll of the configured mode (tests and the CLI call it directly). */
  pollOnce(): Promise<MoyskladPollResult> {
    if (!this.polling) {
      this.polling = (this.config.mode === 'master' ? this.runMasterPoll() : this.runOrderPoll()).finally(
        () => {
          this.polling = undefined;
        },
      );
    }
    return this.polling;
  }

  /** What either mode's poll starts with: a new cycle, the token, and settings (stale ones will do). */
  private async beginPoll(): Promise<{
    intake: BillIntake;
    cycle: number;
    trigger: JobTrigger;
    result: MoyskladPollResult;
  }> {
    const intake = this.requireContext('poll').intake;
    const cycle = ++this.pollCycle;
    const trigger: JobTrigger = { kind: 'poll', ref: `${this.name}#${cycle}` };
    const result = { seen: 0, submitted: 0, rejected: 0, known: 0, skipped: 0, unreadable: 0 };
    await this.ensureCredentials();
    await this.settings().catch(() => undefined);
    return { intake, cycle, trigger, result };
  }

  private async runMasterPoll(): Promise<MoyskladPollResult> {
    const { intake, cycle, trigger, result } = await this.beginPoll();
    const organizationId = this.organizationIdKnown();
    if (organizationId === undefined) {
      const error = new MoyskladMalformedResponseError(
        this.account,
        'GET /settings/retailstore/',
        'no organization.id, so there is no queue to poll',
      );
      if (this.settingsValue) this.noteError(error);
      throw error;
    }
    for (let taken = 0; taken < this.config.maxOperationsPerPoll && this.running; taken++) {
      const raw = await this.track(() => this.client.pollMaster(organizationId, this.abort.signal));
      if (raw === undefined) break;
      result.seen++;
      const key = masterOperationKey(raw);
      if (key === undefined) {
        result.unreadable++;
        const error = new MoyskladMalformedResponseError(
          this.account,
          'GET /cheque/rpc/master/poll',
          'the operation has no usable meta; it cannot be fiscalized or rejected',
        );
        this.noteError(error);
        this.logger.error({ event: 'moysklad.master.unreadable', account: this.account }, error.message);
        break;
      }
      this.operationMetas.set(key.billId, key.meta);
      if (intake.find(this.keyOf(key.billId))) {
        // The queue hands out the same operation until it is approved or rejected (no lease is documented):
        // the report is on its way, so stop here rather than spin on it.
        result.known++;
        break;
      }
      let mapped: ReturnType<typeof mapMasterOperation>;
      try {
        mapped = mapMasterOperation(raw, key, {
          account: this.account,
          defaultTaxSystem: this.defaultTaxSystem('master'),
          cashiers: this.settingsValue?.cashiers ?? [],
        });
      } catch (error) {
        if (!(error instanceof KktAgentError)) throw error;
        this.logger.warn(
          {
            event: 'moysklad.master.rejected',
            account: this.account,
            billId: key.billId,
            code: error.code,
            field: fieldOf(error),
          },
          'the queued operation cannot be fiscalized; it will be rejected',
        );
        await intake.reject({
          key: this.keyOf(key.billId),
          ...(key.number ? { number: key.number } : {}),
          error,
          trigger,
        });
        result.rejected++;
        continue;
      }
      const submitted = await intake.submit({
        bill: mapped.bill,
        operation: mapped.operation,
        trigger,
        ...(this.config.device !== undefined ? { deviceId: this.config.device } : {}),
      });
      if (submitted.duplicate) result.known++;
      else result.submitted++;
      this.logger.info(
        {
          event: 'moysklad.master.submitted',
          account: this.account,
          billId: key.billId,
          jobId: submitted.job.id,
          duplicate: submitted.duplicate,
        },
        'queued operation handed to the fiscalizer',
      );
    }
    this.finishPoll(cycle, result);
    return result;
  }

  private async runOrderPoll(): Promise<MoyskladPollResult> {
    const { intake, cycle, trigger, result } = await this.beginPoll();
    const rows = await this.track(() => this.client.customerOrders(this.abort.signal));
    result.seen = rows.length;
    const orders = [];
    for (const row of rows) {
      try {
        orders.push(parseCustomerOrder(row));
      } catch (error) {
        result.unreadable++;
        this.logger.warn(
          { event: 'moysklad.order.unreadable', account: this.account, field: fieldOf(error) },
          'a customer order row is not readable; skipped',
        );
      }
    }
    // Oldest first; `moment` is `YYYY-MM-DD HH:mm:ss`, so text order is time order.
    orders.sort((a, b) => (a.moment ?? '').localeCompare(b.moment ?? ''));
    const { notBefore, states } = this.config.customerOrders;
    for (const order of orders) {
      if (!this.running) break;
      const billId = customerOrderBillId(order.id);
      if (intake.find(this.keyOf(billId))) {
        result.known++;
        continue;
      }
      if (
        (notBefore !== undefined && (order.moment === undefined || order.moment < notBefore)) ||
        (states.length > 0 && !states.includes(order.state?.name ?? '')) ||
        customerOrderSkipReason(order) !== undefined
      ) {
        result.skipped++;
        continue;
      }
      const outcome = await this.submitOrder(order, this.config.customerOrders.payment, trigger);
      if (outcome.job.state === 'FAILED' && !outcome.duplicate) result.rejected++;
      else if (outcome.duplicate) result.known++;
      else result.submitted++;
    }
    this.finishPoll(cycle, result);
    return result;
  }

  private finishPoll(cycle: number, result: MoyskladPollResult): void {
    this.lastPoll = { at: this.now().toISOString(), result };
    this.logger[result.submitted + result.rejected > 0 ? 'info' : 'debug'](
      { event: 'moysklad.poll.completed', account: this.account, mode: this.config.mode, cycle, ...result },
      'MoySklad poll completed',
    );
  }

  private async submitOrder(
    order: ReturnType<typeof parseCustomerOrder>,
    payment: 'card' | 'cash',
    trigger: JobTrigger,
  ): Promise<IntakeResult> {
    const intake = this.requireContext('fiscalize an order').intake;
    const billId = customerOrderBillId(order.id);
    try {
      const cashier = cashierByUid(
        this.settingsValue?.cashiers ?? [],
        this.credentials?.credentials.cashierUid,
      );
      const bill = mapCustomerOrder(order, {
        account: this.account,
        payment,
        defaultTaxSystem: this.defaultTaxSystem('order'),
        ...(cashier ? { cashier } : {}),
      });
      const outcome = await intake.submit({
        bill,
        trigger,
        ...(this.config.device !== undefined ? { deviceId: this.config.device } : {}),
      });
      this.logger.info(
        {
          event: 'moysklad.order.submitted',
          account: this.account,
          billId,
          jobId: outcome.job.id,
          duplicate: outcome.duplicate,
          trigger: trigger.kind,
        },
        outcome.duplicate ? 'order already known' : 'order handed to the fiscalizer',
      );
      return outcome;
    } catch (error) {
      if (!(error instanceof KktAgentError)) throw error;
      this.logger.warn(
        {
          event: 'moysklad.order.rejected',
          account: this.account,
          billId,
          code: error.code,
          field: fieldOf(error),
        },
        'the customer order cannot be fiscalized as it stands',
      );
      return intake.reject({ key: this.keyOf(billId), number: order.name.slice(0, 64), error, trigger });
    }
  }

  /**
   * A technician's command: a customer order by id (`billId`, with or without `customerorder:`) or by its
   * number (`name`). Works in both modes; the receipt is reported as a retail demand linked to the order.
   */
  async fiscalizeOnCommand(command: BillCommand): Promise<IntakeResult> {
    const intake = this.requireContext('fiscalize an order').intake;
    await this.ensureCredentials();
    await this.settings().catch(() => undefined);
    let order: ReturnType<typeof parseCustomerOrder>;
    if (command.billId !== undefined) {
      const id = command.billId.replace(/^customerorder:/, '');
      if (!UUID_PATTERN.test(id)) throw new ValidationError('billId', 'expected a customer order id (UUID)');
      const existing = intake.find(this.keyOf(customerOrderBillId(id)));
      if (existing && existing.state !== 'FAILED') return { job: existing, duplicate: true };
      const raw = await this.track(() => this.client.customerOrder(id, this.abort.signal));
      order = this.parseOrderOrThrow(raw, `GET /entity/customerorder/${id}`);
    } else if (command.number !== undefined) {
      const rows = await this.track(() => this.client.customerOrders(this.abort.signal));
      const matches = rows.flatMap((row) => {
        try {
          const parsed = parseCustomerOrder(row);
          return parsed.name === command.number ? [parsed] : [];
        } catch {
          return [];
        }
      });
      if (matches.length !== 1)
        throw new MoyskladOrderLookupError(this.account, `number "${command.number}"`, matches.length);
      order = matches[0]!;
    } else {
      throw new ValidationError('number', 'give a customer order number or id');
    }
    const existing = intake.find(this.keyOf(customerOrderBillId(order.id)));
    if (existing && existing.state !== 'FAILED') return { job: existing, duplicate: true };
    const reason = customerOrderSkipReason(order);
    if (reason !== undefined) throw new MoyskladBillError('order', `order ${order.name} is ${reason}`);
    return this.submitOrder(order, command.payment ?? this.config.customerOrders.payment, command.trigger);
  }

  private parseOrderOrThrow(raw: unknown, endpoint: string): ReturnType<typeof parseCustomerOrder> {
    try {
      return parseCustomerOrder(raw);
    } catch (error) {
      throw new MoyskladMalformedResponseError(this.account, endpoint, errorMessage(error), error);
    }
  }

  /**
   * Device snapshots for `chequePrinter` in approves and sales (drafts are synchronous, so they read this
   * cache). Refreshed at start, at shift events, by the state loop, and when a draft found no model.
   */
  private refreshSnapshots(): void {
    const context = this.context;
    if (!context || !this.running || this.snapshotsLoading) return;
    this.snapshotsLoading = context
      .devices()
      .then((snapshots) => {
        for (const snapshot of snapshots) this.snapshots.set(snapshot.id, snapshot);
      })
      .catch(() => undefined)
      .finally(() => {
        this.snapshotsLoading = undefined;
      });
  }

  // --- POST /state ------------------------------------------------------------------------------------

  private scheduleState(delayMs: number): void {
    if (!this.running) return;
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = setTimeout(() => {
      this.stateTimer = undefined;
      void this.reportState().finally(() => this.scheduleState(this.config.state.checkIntervalMs));
    }, delayMs);
  }

  /** Something visible changed (alert, shift): look again soon rather than at the next tick. */
  private kickState(): void {
    if (this.running && this.config.state.enabled && !this.stateRun) this.scheduleState(50);
  }

  /**
   * Sends the state when it changed or the interval passed. Latest wins: a check while one is running is
   * skipped (the next tick reads fresher snapshots); a failure is remembered, never queued.
   */
  reportState(force = false): Promise<void> {
    if (this.stateRun) return this.stateRun;
    this.stateRun = this.runState(force).finally(() => {
      this.stateRun = undefined;
    });
    return this.stateRun;
  }

  private async runState(force: boolean): Promise<void> {
    const context = this.context;
    if (!context || !this.running) return;
    try {
      const snapshots = await context.devices();
      for (const snapshot of snapshots) this.snapshots.set(snapshot.id, snapshot);
      const snapshot =
        this.config.device !== undefined ? this.snapshots.get(this.config.device) : snapshots[0];
      // The store's tax system goes into chequePrinter.taxSystem; read the settings first if need be.
      if (!this.settingsValue) await this.settings().catch(() => undefined);
      const taxSystem = this.settingsValue?.defaultTaxSystem;
      const body = buildStateBody(
        snapshot,
        {
          deviceName: this.deviceName,
          os: `${type()} ${release()}`,
          softwareVersion: this.softwareVersion,
          timeZone: this.config.timeZone,
          ...(taxSystem ? { taxSystem } : {}),
        },
        { message: this.syncMessage(), lastAttemptAt: this.health.lastSuccessAt ?? this.now().toISOString() },
      );
      const fingerprint = stateFingerprint(body);
      const sent = this.stateSent;
      const due =
        force ||
        !sent ||
        sent.fingerprint !== fingerprint ||
        Date.now() - sent.at >= this.config.state.intervalMs;
      if (!due) return;
      await this.ensureCredentials();
      await this.track(() => this.client.send('POST', 'state', JSON.stringify(body), this.abort.signal));
      this.stateSent = { at: Date.now(), fingerprint };
      this.stateError = undefined;
    } catch (error) {
      if (this.abort.signal.aborted) return;
      this.stateError = {
        code: errorCode(error),
        message: errorMessage(error),
        at: this.now().toISOString(),
      };
      this.logger.warn(
        { event: 'moysklad.state.failed', account: this.account, code: errorCode(error) },
        'MoySklad /state not sent',
      );
    }
  }

  /**
   * `state.sync.message`. A state only arrives when MoySklad answered it, so "offline" would always be stale
   * there: only what needs a person is said.
   */
  private syncMessage(): string {
    if (this.alert) return `Ошибка синхронизации (${this.alert.code}): требуется действие`.slice(0, 255);
    return 'OK';
  }

  // --- report sink: drafts ------------------------------------------------------------------------------

  private draft(event: AgentEvent): OutboxDraft[] {
    switch (event.type) {
      case 'shift.opened':
        if (!this.tracksDevice(event.deviceId)) return [];
        this.kickState();
        this.refreshSnapshots();
        return [this.draftOpenShift(event.deviceId, event.shift)];
      case 'shift.closed':
        if (!this.tracksDevice(event.deviceId)) return [];
        this.kickState();
        return [this.draftCloseShift(event.deviceId, event.shift)];
      case 'job.fiscalized':
        return this.draftFiscalized(event.job);
      case 'job.failed':
        return this.draftFailed(event.job);
    }
  }

  private tracksDevice(deviceId: string): boolean {
    return this.config.device === undefined || this.config.device === deviceId;
  }

  private moment(iso: string): string {
    return formatMoment(iso, this.config.timeZone);
  }

  private draftOpenShift(deviceId: string, shift: ShiftEvent): OutboxDraft {
    const openmoment = this.moment(shift.dateTimeUtc);
    const start: ShiftCheque = { shiftNumber: String(shift.shiftNumber), time: openmoment };
    if (shift.fnNumber) start.fnNumber = shift.fnNumber;
    if (shift.registrationNumber) start.kktRegNumber = shift.registrationNumber;
    if (shift.fiscalSign) start.fiscalDocSign = shift.fiscalSign;
    if (shift.fiscalDocumentNumber !== undefined) start.fiscalDocNumber = String(shift.fiscalDocumentNumber);
    const record = this.shifts.open({
      deviceId,
      number: shift.shiftNumber,
      ...(shift.fnNumber ? { fnNumber: shift.fnNumber } : {}),
      openmoment,
      ...(shift.fiscalDocumentNumber !== undefined
        ? { openFiscalDocumentNumber: shift.fiscalDocumentNumber }
        : {}),
      start,
      adopted: false,
    });
    this.logger.info(
      {
        event: 'moysklad.shift.drafted',
        account: this.account,
        device: deviceId,
        shift: shift.shiftNumber,
        syncId: record.syncId,
      },
      'shift open drafted for MoySklad',
    );
    return { kind: REPORT_KINDS.openShift, payload: this.openShiftPayload(record) };
  }

  private openShiftPayload(record: ShiftRecord): OpenShiftDraft {
    return {
      account: this.account,
      shift: {
        deviceId: record.deviceId,
        number: record.number,
        ...(record.fnNumber ? { fnNumber: record.fnNumber } : {}),
        syncId: record.syncId,
      },
      name: String(record.number),
      openmoment: record.openmoment,
      start: record.start,
      adopted: record.adopted,
    };
  }

  private draftCloseShift(deviceId: string, shift: ShiftEvent): OutboxDraft {
    const record = this.shifts.find({ deviceId, number: shift.shiftNumber, fnNumber: shift.fnNumber });
    const closemoment = this.moment(shift.dateTimeUtc);
    const end: CloseShiftDraft['end'] = { shiftNumber: String(shift.shiftNumber), time: closemoment };
    if (shift.fnNumber) end.fnNumber = shift.fnNumber;
    if (shift.registrationNumber) end.kktRegNumber = shift.registrationNumber;
    if (shift.fiscalSign) end.fiscalDocSign = shift.fiscalSign;
    if (shift.fiscalDocumentNumber !== undefined) end.fiscalDocNumber = String(shift.fiscalDocumentNumber);
    const chequesTotal = shift.receiptsCount ?? record?.receipts;
    if (chequesTotal !== undefined) end.chequesTotal = chequesTotal;
    // Every fiscal document of the shift lies between its open and close reports, both included.
    const fiscalDocsTotal =
      shift.documentsCount ??
      (record?.openFiscalDocumentNumber !== undefined && shift.fiscalDocumentNumber !== undefined
        ? shift.fiscalDocumentNumber - record.openFiscalDocumentNumber + 1
        : undefined);
    if (fiscalDocsTotal !== undefined && fiscalDocsTotal > 0) end.fiscalDocsTotal = fiscalDocsTotal;
    if (record) this.shifts.close(record, shift.dateTimeUtc);
    const payload: CloseShiftDraft = {
      account: this.account,
      shift: {
        deviceId,
        number: shift.shiftNumber,
        ...(shift.fnNumber ? { fnNumber: shift.fnNumber } : {}),
        ...(record ? { syncId: record.syncId } : {}),
      },
      closemoment,
      ...(record ? { start: record.start } : {}),
      end,
    };
    return { kind: REPORT_KINDS.closeShift, payload };
  }

  private isOurs(job: Job): boolean {
    return isJobOf(job, MOYSKLAD_SOURCE, this.account);
  }

  private draftFiscalized(job: Job): OutboxDraft[] {
    const fiscal = job.fiscal;
    const deviceId = fiscal?.deviceId || job.deviceId;
    const lookup = { deviceId, number: fiscal?.shiftNumber, fnNumber: fiscal?.fnNumber };
    let record = fiscal ? this.shifts.find(lookup) : undefined;
    if (record && fiscal?.shiftNumber !== undefined) this.shifts.countReceipt(record);
    if (!this.isOurs(job)) return [];
    if (!fiscal)
      throw new MoyskladReportError(this.account, `job ${job.id} is fiscalized without fiscal data`);
    const source = readSourceData(job.bill);
    if (!source || !job.bill)
      throw new MoyskladReportError(this.account, `job ${job.id} carries no MoySklad source data`);
    const drafts: OutboxDraft[] = [];
    if (!record && this.context && fiscal.shiftNumber !== undefined) {
      // MoySklad never heard of this shift (opened before this store was paired, or by another program):
      // open it there first, from what the receipt says, so the document has a shift to go into.
      const openmoment = this.moment(fiscal.dateTimeUtc);
      const start: ShiftCheque = { shiftNumber: String(fiscal.shiftNumber), time: openmoment };
      if (fiscal.fnNumber) start.fnNumber = fiscal.fnNumber;
      if (fiscal.registrationNumber) start.kktRegNumber = fiscal.registrationNumber;
      record = this.shifts.open({
        deviceId,
        number: fiscal.shiftNumber,
        ...(fiscal.fnNumber ? { fnNumber: fiscal.fnNumber } : {}),
        openmoment,
        start,
        adopted: true,
      });
      this.shifts.countReceipt(record);
      drafts.push({ kind: REPORT_KINDS.openShift, payload: this.openShiftPayload(record) });
    }
    const shift: ShiftRef = {
      deviceId,
      ...(fiscal.shiftNumber !== undefined ? { number: fiscal.shiftNumber } : {}),
      ...(fiscal.fnNumber ? { fnNumber: fiscal.fnNumber } : {}),
      ...(record ? { syncId: record.syncId } : {}),
    };
    const time = this.moment(fiscal.dateTimeUtc);
    const cheque: ChequeDraft = {
      fiscal: true,
      online: false,
      printed: true,
      sumKop: fiscal.totalMinor,
      time,
    };
    if (fiscal.receiptNumber !== undefined) cheque.number = fiscal.receiptNumber;
    if (fiscal.fnNumber) cheque.fnNumber = fiscal.fnNumber;
    if (fiscal.fiscalSign) cheque.fiscalDocSign = fiscal.fiscalSign;
    if (fiscal.fiscalDocumentNumber !== undefined)
      cheque.fiscalDocNumber = String(fiscal.fiscalDocumentNumber);
    const snapshot = this.snapshots.get(deviceId);
    if (!snapshot?.model) this.refreshSnapshots();
    const chequePrinter = snapshot ? chequePrinterOf(snapshot, this.softwareVersion) : undefined;
    const bill = job.bill;

    if (source.kind === 'master') {
      const taxSystem =
        source.taxSystem ??
        this.defaultTaxSystem('master') ??
        (bill.taxationSystem ? moyskladTaxSystemOf(bill.taxationSystem) : undefined);
      const payload: ApproveDraft = {
        account: this.account,
        billId: bill.billId,
        operation: source.operation,
        shift,
        cheque,
        ...(chequePrinter ? { chequePrinter } : {}),
        ...(taxSystem ? { taxSystem } : {}),
      };
      drafts.push({ kind: REPORT_KINDS.approve, jobId: job.id, payload });
      return drafts;
    }

    if (source.positions.length !== bill.positions.length) {
      throw new MoyskladReportError(
        this.account,
        `job ${job.id}: positions and source data differ in length`,
      );
    }
    const cashSumKop = bill.payments
      .filter((p) => p.type === 'cash')
      .reduce((sum, p) => sum + p.amountMinor, 0);
    const noCashSumKop = bill.totalMinor - cashSumKop;
    const payload: RetailDemandDraft = {
      account: this.account,
      billId: bill.billId,
      syncId: randomUUID(),
      shift,
      name: fiscal.fiscalDocumentNumber !== undefined ? String(fiscal.fiscalDocumentNumber) : job.id,
      moment: time,
      customerOrder: source.order,
      ...(source.agent ? { agent: source.agent } : {}),
      vatEnabled: source.vatEnabled,
      positions: bill.positions.map((position, index) => {
        const from = source.positions[index]!;
        return {
          assortment: from.assortment,
          quantityMilli: position.quantityMilli,
          priceKop: position.priceMinor,
          vat: from.vat,
          vatEnabled: from.vatEnabled,
        };
      }),
      cashSumKop,
      noCashSumKop,
      ...(source.taxSystem ? { taxSystem: source.taxSystem } : {}),
      cheque,
      ...(chequePrinter ? { chequePrinter } : {}),
    };
    drafts.push({ kind: REPORT_KINDS.retailDemand, jobId: job.id, payload });
    return drafts;
  }

  private draftFailed(job: Job): OutboxDraft[] {
    if (!this.isOurs(job)) return [];
    const source = readSourceData(job.bill);
    const billId = job.bill?.billId ?? job.summary.billId;
    if (source?.kind === 'customerorder' || billId.startsWith('customerorder:')) {
      // posap has no "could not fiscalize this order" call: the order stays as it is; status shows the job.
      return [];
    }
    const operation = source?.kind === 'master' ? source.operation : this.operationMetaOf(billId);
    if (!operation) {
      this.logger.error(
        { event: 'moysklad.reject.unavailable', account: this.account, billId },
        'cannot reject: the operation meta is unknown',
      );
      return [];
    }
    const failure = job.failure;
    const message = failure ? `${failure.code}: ${failure.message}` : 'the receipt was not printed';
    const payload: RejectDraft = {
      account: this.account,
      billId,
      operation,
      fiscalErrMsg: message.slice(0, 1000),
    };
    return [{ kind: REPORT_KINDS.reject, jobId: job.id, payload }];
  }

  /** The meta of a polled operation; after a restart rebuilt from `type:syncId` (posap addresses by syncId). */
  private operationMetaOf(billId: string): Record<string, string | number | boolean | null> | undefined {
    const known = this.operationMetas.get(billId);
    if (known) return known;
    const found = /^([a-z]+):([0-9a-f-]{36})$/.exec(billId);
    if (!found || !UUID_PATTERN.test(found[2]!)) return undefined;
    return { ...syncMeta(this.config.baseUrl, found[1]!, found[2]!), id: found[2]!, idType: 'sync' };
  }

  // --- report sink: delivery ----------------------------------------------------------------------------

  private get renderContext(): RenderContext {
    return { baseUrl: this.config.baseUrl, chequeSumUnit: this.config.chequeSumUnit };
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    if (!this.running || !this.context) {
      throw new DeliveryError(
        'MOYSKLAD_NOT_STARTED',
        `MoySklad ${this.account}: the connector is not running.`,
        {
          permanent: false,
          retryAfterMs: 500,
        },
      );
    }
    const details = { account: this.account, entryId: entry.id, kind: entry.kind };
    try {
      await this.ensureCredentials();
      switch (entry.kind) {
        case REPORT_KINDS.openShift:
          return await this.deliverOpenShift(this.payloadOf(openShiftDraftSchema, entry));
        case REPORT_KINDS.closeShift:
          return await this.deliverCloseShift(this.payloadOf(closeShiftDraftSchema, entry));
        case REPORT_KINDS.retailDemand:
          return await this.deliverRetailDemand(this.payloadOf(retailDemandDraftSchema, entry));
        case REPORT_KINDS.approve:
          return await this.deliverApprove(this.payloadOf(approveDraftSchema, entry));
        case REPORT_KINDS.reject:
          return await this.deliverReject(this.payloadOf(rejectDraftSchema, entry));
        default:
          throw new MoyskladReportError(
            this.account,
            `outbox entry ${entry.id} (${entry.kind}) is not a MoySklad report`,
          );
      }
    } catch (error) {
      throw this.toDeliveryError(error, details);
    }
  }

  private payloadOf<S extends z.ZodType<{ account: string }>>(schema: S, entry: OutboxEntry): z.output<S> {
    const parsed = schema.safeParse(entry.payload);
    if (!parsed.success || parsed.data.account !== this.account) {
      throw new MoyskladReportError(
        this.account,
        `outbox entry ${entry.id} (${entry.kind}) is not a report of this store`,
      );
    }
    return parsed.data;
  }

  /** Sends a syncId-keyed create or RPC; the same syncId already accepted (3006) counts as delivered. */
  private async sendIdempotent(
    method: 'POST' | 'PUT',
    path: string,
    body: string,
    what: string,
  ): Promise<void> {
    try {
      await this.track(() => this.client.send(method, path, body, this.abort.signal));
    } catch (error) {
      if (error instanceof MoyskladDuplicateError && error.isSyncIdDuplicate) {
        this.logger.info(
          { event: 'moysklad.replay.duplicate', account: this.account, what },
          'MoySklad already has it; counted as delivered',
        );
        return;
      }
      throw error;
    }
  }

  private async deliverOpenShift(draft: OpenShiftDraft): Promise<void> {
    await this.sendIdempotent(
      'PUT',
      'rpc/openshift/',
      renderOpenShift(draft, this.renderContext),
      'openshift',
    );
    this.logger.info(
      {
        event: 'moysklad.shift.opened',
        account: this.account,
        shift: draft.shift.number,
        syncId: draft.shift.syncId,
        adopted: draft.adopted,
      },
      'shift opened in MoySklad',
    );
  }

  private async deliverCloseShift(draft: CloseShiftDraft): Promise<void> {
    const record = draft.shift.syncId
      ? this.shifts.bySyncId(draft.shift.syncId)
      : this.shifts.find({
          deviceId: draft.shift.deviceId,
          number: draft.shift.number,
          fnNumber: draft.shift.fnNumber,
        });
    const syncId = draft.shift.syncId ?? record?.syncId;
    if (syncId === undefined) {
      // Nothing of this shift reached MoySklad (no open, no document): there is nothing to close there.
      this.logger.warn(
        { event: 'moysklad.shift.close_skipped', account: this.account, shift: draft.shift.number },
        'closing a shift MoySklad never saw: nothing sent',
      );
      return;
    }
    const body = renderCloseShift(draft, syncId, draft.start ?? record?.start, this.renderContext);
    await this.withShiftHealing(record, () =>
      this.sendIdempotent('PUT', 'rpc/closeshift/', body, 'closeshift'),
    );
    if (record && record.state === 'open') this.shifts.close(record, this.now().toISOString());
    this.logger.info(
      { event: 'moysklad.shift.closed', account: this.account, shift: draft.shift.number, syncId },
      'shift closed in MoySklad',
    );
  }

  private async deliverRetailDemand(draft: RetailDemandDraft): Promise<void> {
    const record = await this.shiftFor(draft.shift, draft.moment);
    const body = renderRetailDemand(draft, record.syncId, this.renderContext);
    await this.withShiftHealing(record, () =>
      this.sendIdempotent('POST', 'entity/retaildemand', body, 'retaildemand'),
    );
    this.logger.info(
      {
        event: 'moysklad.demand.delivered',
        account: this.account,
        billId: draft.billId,
        syncId: draft.syncId,
      },
      'retail demand created in MoySklad',
    );
  }

  private async deliverApprove(draft: ApproveDraft): Promise<void> {
    const record = await this.shiftFor(draft.shift, draft.cheque.time);
    const body = renderApprove(draft, record.syncId, this.renderContext);
    await this.withShiftHealing(record, () =>
      this.sendIdempotent('PUT', 'cheque/rpc/master/approve', body, 'approve'),
    );
    this.logger.info(
      { event: 'moysklad.master.approved', account: this.account, billId: draft.billId },
      'operation approved in MoySklad',
    );
  }

  private async deliverReject(draft: RejectDraft): Promise<void> {
    await this.sendIdempotent('PUT', 'cheque/rpc/master/reject', renderReject(draft), 'reject');
    this.logger.info(
      { event: 'moysklad.master.rejected_sent', account: this.account, billId: draft.billId },
      'operation rejected in MoySklad',
    );
  }

  /**
   * The shift a document goes into: the one drafted with it, else the registry's record of its KKT shift,
   * else a shift opened now (persisted before it is sent, so a retry reuses its syncId).
   */
  private async shiftFor(ref: ShiftRef, moment: string): Promise<ShiftRecord> {
    if (ref.syncId) {
      const known = this.shifts.bySyncId(ref.syncId);
      if (known) return known;
      // The registry lost it (trimmed): a stand-in that carries the syncId is all a document needs.
      return {
        deviceId: ref.deviceId,
        number: ref.number ?? 0,
        ...(ref.fnNumber ? { fnNumber: ref.fnNumber } : {}),
        syncId: ref.syncId,
        state: 'open',
        openmoment: moment,
        start: { shiftNumber: String(ref.number ?? 0), time: moment },
        receipts: 0,
        adopted: true,
      };
    }
    const found = this.shifts.find({ deviceId: ref.deviceId, number: ref.number, fnNumber: ref.fnNumber });
    if (found) return found;
    const start: ShiftCheque = { shiftNumber: String(ref.number ?? 0), time: moment };
    if (ref.fnNumber) start.fnNumber = ref.fnNumber;
    const record = this.shifts.open({
      deviceId: ref.deviceId,
      number: ref.number ?? 0,
      ...(ref.fnNumber ? { fnNumber: ref.fnNumber } : {}),
      openmoment: moment,
      start,
      adopted: true,
    });
    await this.shifts.flush();
    await this.deliverOpenShift(this.openShiftPayload(record));
    return record;
  }

  /** 12012 (the shift is unknown there, e.g. its open went to the dead letter): open it again, then retry once. */
  private async withShiftHealing(record: ShiftRecord | undefined, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (!(error instanceof MoyskladShiftUnknownError) || !record) throw error;
      this.logger.warn(
        { event: 'moysklad.shift.heal', account: this.account, shift: record.number, syncId: record.syncId },
        'MoySklad does not know the shift; opening it again',
      );
      await this.deliverOpenShift(this.openShiftPayload(record));
      await send();
    }
  }

  private toDeliveryError(error: unknown, details: Record<string, unknown>): DeliveryError {
    if (error instanceof DeliveryError) return error;
    if (this.abort.signal.aborted || !this.running) {
      return new DeliveryError('MOYSKLAD_STOPPED', 'The MoySklad connector stopped during the delivery.', {
        permanent: false,
        retryAfterMs: 500,
        details,
        cause: error,
      });
    }
    if (needsPerson(error)) {
      // Kept pending, not dead: the reports are fine, the token (or the store) is not. Status shows the alert.
      this.raiseAlert(error);
      return new DeliveryError(errorCode(error), errorMessage(error), {
        permanent: false,
        retryAfterMs: this.config.authRetryMs,
        details,
        cause: error,
      });
    }
    if (error instanceof MoyskladRateLimitError) {
      return new DeliveryError(error.code, error.message, {
        permanent: false,
        retryAfterMs: error.retryAfterMs,
        details,
        cause: error,
      });
    }
    if (error instanceof MoyskladApiError && !isOffline(error)) {
      return new DeliveryError(error.code, error.message, {
        permanent: true,
        details: { ...details, status: error.status, apiCode: error.apiCode },
        cause: error,
      });
    }
    if (error instanceof MoyskladReportError) {
      return new DeliveryError(error.code, error.message, { permanent: true, details, cause: error });
    }
    return deliveryErrorOf(error, details, 'UNEXPECTED');
  }

  private keyOf(billId: string): BillKey {
    return { source: MOYSKLAD_SOURCE, account: this.account, billId };
  }

  private requireContext(what: string): ConnectorContext {
    if (!this.context || !this.running) throw new MoyskladNotStartedError(this.account, what);
    return this.context;
  }
}

/** Needs a person, not a retry: the token is refused, the credentials file is unusable, the store inactive. */
function needsPerson(error: unknown): boolean {
  if (error instanceof MoyskladAuthError || error instanceof MoyskladCredentialsError) return true;
  return error instanceof MoyskladApiError && error.hasCode(4000);
}

/** The cloud is unreachable or unwell right now (as opposed to saying no). */
function isOffline(error: unknown): boolean {
  if (error instanceof MoyskladRateLimitError) return false;
  if (error instanceof MoyskladApiError)
    return error.status >= 500 || error.hasCode(1074) || error.hasCode(1065);
  if (error instanceof KktAgentError) {
    return [
      'MOYSKLAD_UNREACHABLE',
      'MOYSKLAD_TIMEOUT',
      'MOYSKLAD_RESPONSE_TOO_LARGE',
      'MOYSKLAD_MALFORMED_RESPONSE',
    ].includes(error.code);
  }
  return false;
}
