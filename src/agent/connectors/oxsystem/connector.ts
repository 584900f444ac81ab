import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { errorCode, KktAgentError, ValidationError } from '../../../lib/errors.js';
import { isLosslessNumber, parseWithSchema } from '../../../lib/json.js';
import type { PaymentType } from '../../domain/payment.js';
import type { IntakeResult } from '../../jobs/intake.js';
import type { BillKey, Job, JobTrigger } from '../../jobs/job.js';
import { DeliveryError } from '../../outbox/deliveryError.js';
import type { AgentEvent, OutboxDraft, OutboxEntry, ReportSink } from '../../outbox/sink.js';
import { ConnectorHealth } from '../health.js';
import { isCloudUnavailable } from '../http/errors.js';
import { PollLoop } from '../pollLoop.js';
import { deliveryErrorOf, isJobOf } from '../sink.js';
import type { BillCommand, Connector, ConnectorContext, ConnectorStatus } from '../types.js';
import { OxClient } from './client.js';
import {
  OX_SELL_KINDS,
  type OxAccountConfig,
  type OxAccountInput,
  type OxSellKind,
  oxAccountSchema,
} from './config.js';
import {
  OxAuthError,
  OxMalformedResponseError,
  OxNotStartedError,
  OxPaymentMethodError,
  OxSellStateError,
} from './errors.js';
import {
  liveRecords,
  mapOxSell,
  OX_SOURCE,
  type OxAddedPayment,
  readOxSourceData,
  variationIdsToLookUp,
} from './mapping.js';
import { appendFiscalNote, fiscalNoteOf, formatFiscalNote, parseFiscalNote } from './note.js';
import { type Selection, type SelectionPolicy, selectSell } from './selection.js';
import { formatOxDateTime, oxInstant } from './time.js';
import {
  OX_CURRENCY,
  type OxCashdesk,
  type OxSell,
  type OxVariation,
  sellHeadSchema,
  sellSchema,
} from './wire.js';

/**
 * One OX System account and cashdesk: a source of bills (the sells its policy selects, polled by
 * `updatedTime`) and the sink that writes back what the register printed: payment and commit for open and
 * postponed sells, then the fiscal note (note.ts). Every write step reads the sell first, so a retry after
 * a lost answer never pays twice.
 */

export const OX_REPORT_KIND = 'oxsystem.sellReport';
export const OX_CURSOR_KEY = 'cursor';
const CASHDESK_TTL_MS = 5 * 60_000;
/** A closed window ends this long before our "now": OX's clock may run behind ours. */
const CLOCK_SKEW_MS = 60_000;

export const oxReportPayloadSchema = z.object({
  account: z.string(),
  sellId: z.string(),
  jobId: z.string(),
  kind: z.enum(OX_SELL_KINDS),
  totalMinor: z.number().int().min(0),
  payment: z
    .object({
      paymentMethod: z.number().int().positive(),
      priceMinor: z.number().int().positive(),
      paidBeforeMinor: z.number().int().min(0),
    })
    .optional(),
  /** The formatted fiscal note, fixed when drafted. */
  note: z.string().min(1),
});
export type OxReportPayload = z.infer<typeof oxReportPayloadSchema>;

export interface OxPollResult {
  /** Rows the list returned. */
  listed: number;
  /** Known to the intake already: nothing fetched. */
  known: number;
  /** Handed to the intake as new jobs. */
  submitted: number;
  /** Malformed sells recorded as FAILED jobs. */
  rejected: number;
  /** Not bills: outside the policy, empty, refunds, debts, or carrying a fiscal note. */
  skipped: number;
  /** Looked at again next poll (a cart still changing, a lookup that failed). */
  deferred: number;
  /** Rows too broken to classify; the cursor waits for them. */
  malformed: number;
  /** The cursor after this poll. */
  cursor: string;
}

export interface OxConnectorOptions {
  /** Milliseconds since the epoch (tests move it to exercise settling and token expiry). */
  now?: () => number;
  /** Overrides the client's first backoff delay. */
  retryDelayMs?: number;
}

type Outcome = 'known' | 'submitted' | 'rejected' | 'skipped' | 'deferred';

export class OxSystemConnector implements Connector {
  readonly name: string;
  readonly account: string;
  readonly config: OxAccountConfig;
  readonly sink: ReportSink;
  readonly client: OxClient;
  private readonly now: () => number;
  private logger: Logger = pino({ level: 'silent' });
  private context: ConnectorContext | undefined;
  private readonly health: ConnectorHealth;
  private lastPoll: { at: string; result: OxPollResult } | undefined;
  private cursorValue: string | undefined;
  /** `updatedTime[max]` of the next poll, while a backlog is read in narrower windows (memory only). */
  private windowEnd: string | undefined;
  private cashdeskCache: { at: number; cashdesk: OxCashdesk } | undefined;
  private readonly pollLoop = new PollLoop(
    () => this.pollOnce(),
    () => this.config.poll.intervalMs,
    (error) =>
      this.logger.warn(
        { event: 'ox.poll.failed', account: this.account, code: errorCode(error) },
        'OX poll failed; will try again',
      ),
  );
  private polling: Promise<OxPollResult> | undefined;
  private pollCycle = 0;
  private abort = new AbortController();
  private running = false;

  constructor(config: OxAccountInput, options: OxConnectorOptions = {}) {
    this.config = parseWithSchema(oxAccountSchema, config, 'oxsystem');
    this.account = this.config.id;
    this.name = `oxsystem:${this.account}`;
    this.now = options.now ?? Date.now;
    this.health = new ConnectorHealth({ now: () => new Date(this.now()), isOffline: isTransportError });
    this.client = new OxClient({
      account: this.account,
      baseUrl: this.config.baseUrl,
      subdomain: this.config.subdomain,
      username: this.config.username,
      password: this.config.password,
      routes: this.config.routes,
      listQuery: this.config.listQuery,
      timeoutMs: this.config.timeoutMs,
      retries: this.config.retries,
      retryDelayMs: options.retryDelayMs ?? this.config.retryDelayMs,
      maxResponseBytes: this.config.maxResponseBytes,
      token: this.config.token,
      now: this.now,
    });
    this.sink = {
      name: this.name,
      draft: (event) => this.draft(event),
      deliver: (entry) => this.deliver(entry),
    };
  }

  /** The `updatedTime[min]` of the next poll (OX local time); known once started. */
  get cursor(): string | undefined {
    return this.cursorValue;
  }

  async start(context: ConnectorContext): Promise<void> {
    if (this.running) return;
    this.context = context;
    this.logger = context.logger.child({ connector: this.name });
    this.client.setLogger(this.logger);
    this.abort = new AbortController();
    const stored = context.store.get<unknown>(OX_CURSOR_KEY);
    if (typeof stored === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(stored)) {
      this.cursorValue = stored;
    } else {
      // Fixed at the first start and stored, so a restart never moves "now" past unprinted sells.
      this.cursorValue =
        this.config.startFrom === 'now'
          ? formatOxDateTime(new Date(this.now()), this.config.timeZone)
          : this.config.startFrom;
      await context.store.set(OX_CURSOR_KEY, this.cursorValue);
      this.logger.info(
        { event: 'ox.cursor.initialized', account: this.account, cursor: this.cursorValue },
        'OX cursor set',
      );
    }
    this.running = true;
    if (this.config.poll.enabled) this.pollLoop.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.pollLoop.stop();
    this.abort.abort(new KktAgentError('OX_STOPPED', `OX System ${this.account}: the connector stopped.`));
    await this.polling?.catch(() => undefined);
  }

  status(): ConnectorStatus {
    return this.health.status(this.name, {
      account: this.account,
      cashdesk: this.config.cashdesk,
      policy: this.config.policy,
      cursor: this.cursorValue,
      token: this.client.tokenStatus(),
      lastPoll: this.lastPoll,
    });
  }

  // --- bill intake ----------------------------------------------------------------------------------------

  /** One poll: the cashdesk, every sell updated since the cursor, each selected one to the intake. */
  pollOnce(): Promise<OxPollResult> {
    if (!this.polling) {
      this.polling = this.runPoll()
        .catch((error: unknown) => {
          this.health.failed(error);
          throw error;
        })
        .finally(() => {
          this.polling = undefined;
        });
    }
    return this.polling;
  }

  /** A technician's command: the sell by id (`billId`, or `number`: OX sells have no other number). */
  async fiscalizeOnCommand(command: BillCommand): Promise<IntakeResult> {
    const context = this.requireContext('fiscalize a sell');
    const sellId = command.billId ?? command.number;
    if (sellId === undefined) throw new ValidationError('billId', 'give the OX sell id');
    const existing = context.intake.find(this.keyOf(sellId));
    if (existing) return { job: existing, duplicate: true };
    const cashdesk = await this.loadCashdesk();
    const everything: SelectionPolicy = {
      ...this.selectionPolicy(),
      kinds: OX_SELL_KINDS,
      openSettleSeconds: 0,
    };
    const sell = await this.fetchSell(sellId);
    const selection = selectSell(sell, everything, this.now());
    if (!selection.select) {
      throw new OxSellStateError(
        this.account,
        sellId,
        `it is not a bill the agent can fiscalize (${selection.detail})`,
      );
    }
    const outcome = await this.submitSell(sell, selection.kind, cashdesk, command.trigger, command.payment);
    if (typeof outcome === 'string') {
      throw new OxSellStateError(this.account, sellId, `it has nothing to fiscalize (${outcome})`);
    }
    return outcome;
  }

  private async runPoll(): Promise<OxPollResult> {
    this.requireContext('poll');
    const cycle = ++this.pollCycle;
    const trigger: JobTrigger = { kind: 'poll', ref: `${this.name}#${cycle}` };
    const startCursor = this.cursorValue!;
    const result: OxPollResult = {
      listed: 0,
      known: 0,
      submitted: 0,
      rejected: 0,
      skipped: 0,
      deferred: 0,
      malformed: 0,
      cursor: startCursor,
    };
    const cashdesk = await this.loadCashdesk();
    const windowEnd = this.windowEnd;
    const { rows, complete } = await this.listSince(startCursor, windowEnd);
    result.listed = rows.length;

    const endpoint = this.client.endpointFor('sellList');
    const heads: Array<z.output<typeof sellHeadSchema>> = [];
    /** Times the cursor must not pass; `startCursor` when a broken row's time is unknown. */
    const holds: string[] = [];
    rows.forEach((row, index) => {
      try {
        heads.push(
          this.client.shape(sellHeadSchema, row, endpoint, { root: `items[${index}]`, sellId: idOf(row) }),
        );
      } catch (error) {
        result.malformed++;
        this.health.failed(error);
        this.logger.warn(
          {
            event: 'ox.sell.malformed',
            account: this.account,
            sellId: idOf(row),
            code: errorCode(error),
            field: fieldOf(error),
          },
          'a sell in the list is too broken to classify; it is looked at again next poll',
        );
        holds.push(timeOf(row) ?? startCursor);
      }
    });
    heads.sort((a, b) =>
      a.updatedTime === b.updatedTime ? compareIds(a.id, b.id) : a.updatedTime < b.updatedTime ? -1 : 1,
    );

    let newest = startCursor;
    for (const head of heads) {
      if (!this.running) {
        holds.push(head.updatedTime);
        continue;
      }
      if (head.updatedTime > newest) newest = head.updatedTime;
      let outcome: Outcome;
      try {
        outcome = await this.consider(head, cashdesk, trigger);
      } catch (error) {
        if (this.abort.signal.aborted) throw error;
        this.health.failed(error);
        this.logger.warn(
          { event: 'ox.sell.deferred', account: this.account, sellId: head.id, code: errorCode(error) },
          'could not take a sell this time; trying again next poll',
        );
        outcome = 'deferred';
      }
      result[outcome]++;
      if (outcome === 'deferred') holds.push(head.updatedTime);
    }

    let next: string;
    if (!complete) {
      // Some rows were not read and their order is unknown: the cursor waits, the window shrinks.
      next = startCursor;
      const narrower = this.narrowerWindow(startCursor, windowEnd);
      this.windowEnd = narrower;
      this.logger.warn(
        {
          event: 'ox.poll.truncated',
          account: this.account,
          pages: this.config.poll.maxPages,
          windowEnd: narrower,
        },
        narrower
          ? 'more sells changed than maxPages pages hold; the next poll reads a narrower window'
          : 'more sells changed within two seconds than maxPages pages hold; raise poll.maxPages',
      );
    } else {
      // OX times sort as text: the earliest held row is the first.
      const held = [...holds].sort()[0];
      // A closed window ends in the past (before any second OX can still write into): all of it is read.
      next =
        held !== undefined
          ? this.boundary(held, startCursor)
          : (windowEnd ?? this.boundary(newest, startCursor));
      this.windowEnd = undefined;
    }
    if (next !== startCursor) {
      await this.requireContext('poll').store.set(OX_CURSOR_KEY, next);
      this.cursorValue = next;
    }
    result.cursor = this.cursorValue!;
    this.lastPoll = { at: new Date(this.now()).toISOString(), result };
    this.logger.info({ event: 'ox.poll.done', account: this.account, ...result }, 'OX poll done');
    return result;
  }

  /**
   * The cursor one second before `time`, but never behind where it was: sells updated within the second
   * of the newest one read are read again next time (the intake knows them), whichever way OX's
   * `updatedTime[min]` bound works (inclusive or not).
   */
  private boundary(time: string, current: string): string {
    if (time <= current) return current;
    const instant = oxInstant(time, this.config.timeZone);
    if (!instant) return current;
    const earlier = formatOxDateTime(new Date(instant.getTime() - 1000), this.config.timeZone);
    return earlier > current ? earlier : current;
  }

  /**
   * A window half as long as the one that could not be read in full: from the cursor to half-way to
   * `windowEnd`, or to a minute ago (clock skew) when the window was open. Undefined when under 2 s.
   */
  private narrowerWindow(cursor: string, windowEnd: string | undefined): string | undefined {
    const zone = this.config.timeZone;
    const from = oxInstant(cursor, zone)?.getTime();
    const to = windowEnd !== undefined ? oxInstant(windowEnd, zone)?.getTime() : this.now() - CLOCK_SKEW_MS;
    if (from === undefined || to === undefined || to - from < 2000) return undefined;
    return formatOxDateTime(new Date(from + Math.floor((to - from) / 2000) * 1000), zone);
  }

  private async listSince(
    cursor: string,
    windowEnd: string | undefined,
  ): Promise<{ rows: unknown[]; complete: boolean }> {
    const rows: unknown[] = [];
    const seen = new Set<string>();
    let firstPageSize = 0;
    for (let page = 1; page <= this.config.poll.maxPages; page++) {
      const items = await this.track(() =>
        this.client.listSells(
          {
            cashdesk: this.config.cashdesk,
            updatedTimeMin: cursor,
            ...(windowEnd !== undefined ? { updatedTimeMax: windowEnd } : {}),
            page,
          },
          this.abort.signal,
        ),
      );
      // An empty page ends the list; so does a page of rows already read (a server ignoring `page`).
      const fresh = items.filter((item) => {
        const id = idOf(item);
        return id === undefined || !seen.has(id);
      });
      if (fresh.length === 0) return { rows, complete: true };
      for (const item of fresh) {
        const id = idOf(item);
        if (id !== undefined) seen.add(id);
        rows.push(item);
      }
      if (page === 1) firstPageSize = items.length;
      // A page shorter than the first is the last one.
      else if (items.length < firstPageSize) return { rows, complete: true };
    }
    return { rows, complete: false };
  }

  private selectionPolicy(): SelectionPolicy {
    return {
      kinds: this.config.policy,
      openSettleSeconds: this.config.openSettleSeconds,
      timeZone: this.config.timeZone,
    };
  }

  private async consider(
    head: z.output<typeof sellHeadSchema>,
    cashdesk: OxCashdesk,
    trigger: JobTrigger,
  ): Promise<Outcome> {
    const first = selectSell(head, this.selectionPolicy(), this.now());
    if (!first.select) return this.notSelected(head.id, first);
    const context = this.requireContext('poll');
    if (context.intake.find(this.keyOf(head.id))) return 'known';
    // The card, not the list row: it is the freshest state, and the list might abbreviate sells.
    let sell: OxSell;
    try {
      sell = await this.fetchSell(head.id);
    } catch (error) {
      if (error instanceof OxMalformedResponseError && error.field !== undefined) {
        return this.reject(head.id, error, trigger);
      }
      throw error;
    }
    const second = selectSell(sell, this.selectionPolicy(), this.now());
    if (!second.select) return this.notSelected(head.id, second);
    const outcome = await this.submitSell(sell, second.kind, cashdesk, trigger, undefined);
    if (typeof outcome === 'string') return outcome;
    return outcome.duplicate ? 'known' : 'submitted';
  }

  private notSelected(sellId: string, selection: Extract<Selection, { select: false }>): Outcome {
    this.logger.debug(
      {
        event: 'ox.sell.skipped',
        account: this.account,
        sellId,
        why: selection.why,
        detail: selection.detail,
      },
      'sell not selected',
    );
    return selection.why === 'later' ? 'deferred' : 'skipped';
  }

  private async fetchSell(sellId: string): Promise<OxSell> {
    const raw = await this.track(() => this.client.sell(sellId, this.abort.signal));
    return this.client.shape(sellSchema, raw, this.client.endpointFor('sell', { sell: sellId }), { sellId });
  }

  /** Maps a selected sell and hands it to the intake; a string says why nothing was submitted. */
  private async submitSell(
    sell: OxSell,
    kind: OxSellKind,
    cashdesk: OxCashdesk,
    trigger: JobTrigger,
    paymentChoice: 'cash' | 'card' | undefined,
  ): Promise<IntakeResult | 'skipped' | 'rejected'> {
    const context = this.requireContext('fiscalize a sell');
    if (liveRecords(sell).length === 0) return 'skipped';
    if ((sell.refundRecords?.length ?? 0) > 0 || (sell.returnRecords?.length ?? 0) > 0) {
      this.logger.info(
        { event: 'ox.sell.skipped', account: this.account, sellId: sell.id, why: 'refund' },
        'sells with refund or return lines are not fiscalized by the agent',
      );
      return 'skipped';
    }
    const addedPayment =
      kind === 'finished'
        ? undefined
        : this.paymentMethodFor(cashdesk, paymentChoice ?? this.config.payments.default);
    const variations = this.config.vat.lookupVariations ? await this.lookUpVariations(sell) : undefined;
    let bill: ReturnType<typeof mapOxSell>;
    try {
      bill = mapOxSell({
        account: this.account,
        sell,
        kind,
        cashdesk: this.config.cashdesk,
        paymentTypeOf: (methodId) => this.paymentTypeOf(cashdesk, methodId),
        ...(addedPayment ? { addedPayment } : {}),
        ...(variations ? { variations } : {}),
      });
    } catch (error) {
      if (!(error instanceof KktAgentError)) throw error;
      return this.reject(sell.id, error, trigger);
    }
    const result = await context.intake.submit({
      bill,
      trigger,
      ...(this.config.device !== undefined ? { deviceId: this.config.device } : {}),
    });
    this.logger.info(
      {
        event: 'ox.sell.submitted',
        account: this.account,
        sellId: sell.id,
        kind,
        jobId: result.job.id,
        duplicate: result.duplicate,
        totalMinor: bill.totalMinor,
      },
      result.duplicate ? 'sell already known' : 'sell handed to the fiscalizer',
    );
    return result;
  }

  private async reject(sellId: string, error: KktAgentError, trigger: JobTrigger): Promise<'rejected'> {
    this.logger.warn(
      { event: 'ox.sell.rejected', account: this.account, sellId, code: error.code, field: fieldOf(error) },
      'OX sent a sell that cannot be fiscalized',
    );
    await this.requireContext('reject a sell').intake.reject({
      key: this.keyOf(sellId),
      number: sellId,
      error,
      trigger,
    });
    return 'rejected';
  }

  private async lookUpVariations(sell: OxSell): Promise<Map<string, OxVariation>> {
    const found = new Map<string, OxVariation>();
    for (const id of variationIdsToLookUp(sell)) {
      found.set(id, await this.track(() => this.client.variation(id, this.abort.signal)));
    }
    return found;
  }

  private async loadCashdesk(): Promise<OxCashdesk> {
    const cached = this.cashdeskCache;
    if (cached && this.now() - cached.at < CASHDESK_TTL_MS) return cached.cashdesk;
    const cashdesk = await this.track(() => this.client.cashdesk(this.config.cashdesk, this.abort.signal));
    if (!cached) {
      this.logger.info(
        {
          event: 'ox.cashdesk',
          account: this.account,
          cashdesk: cashdesk.id,
          paymentMethods: cashdesk.paymentMethods.map((m) => ({
            id: m.id,
            type: this.paymentTypeOf(cashdesk, m.id),
            active: m.active !== false,
          })),
          onlineKKM: cashdesk.onlineKKM,
        },
        'OX cashdesk read',
      );
    }
    this.cashdeskCache = { at: this.now(), cashdesk };
    return cashdesk;
  }

  /** `cash: true` → cash, any other method → card; `payments.overrides` win. */
  paymentTypeOf(cashdesk: OxCashdesk, methodId: number): PaymentType {
    const override = this.config.payments.overrides[String(methodId)];
    if (override) return override;
    return cashdesk.paymentMethods.find((m) => m.id === methodId)?.cash === true ? 'cash' : 'card';
  }

  private paymentMethodFor(cashdesk: OxCashdesk, type: 'cash' | 'card'): OxAddedPayment {
    const configured =
      type === 'cash' ? this.config.payments.cashMethodId : this.config.payments.cardMethodId;
    if (configured !== undefined) return { type, methodId: configured };
    const method = cashdesk.paymentMethods.find(
      (m) => m.active !== false && m.wallet !== true && this.paymentTypeOf(cashdesk, m.id) === type,
    );
    if (!method) throw new OxPaymentMethodError(this.account, this.config.cashdesk, type);
    return { type, methodId: method.id };
  }

  /** Runs one client call and keeps `status()` current. */
  private track<T>(call: () => Promise<T>): Promise<T> {
    return this.health.track(call, () => this.abort.signal.aborted);
  }

  private keyOf(sellId: string): BillKey {
    return { source: OX_SOURCE, account: this.account, billId: sellId };
  }

  private requireContext(what: string): ConnectorContext {
    if (!this.context || !this.running) throw new OxNotStartedError(this.account, what);
    return this.context;
  }

  // --- report sink ----------------------------------------------------------------------------------------

  private isOurs(job: Job): boolean {
    return isJobOf(job, OX_SOURCE, this.account);
  }

  /** One report per fiscalized sell of this account; its note text is fixed here, once. */
  private draft(event: AgentEvent): OutboxDraft[] {
    if (event.type !== 'job.fiscalized' || !this.isOurs(event.job)) return [];
    const { job } = event;
    if (job.operation !== 'sell') return [];
    const source = job.bill ? readOxSourceData(job.bill) : undefined;
    if (!job.bill || !source) {
      throw new OxSellStateError(this.account, job.summary.billId, `job ${job.id} carries no OX sell data`);
    }
    if (!job.fiscal)
      throw new OxSellStateError(this.account, source.oxSellId, `job ${job.id} has no fiscal data`);
    const payload: OxReportPayload = {
      account: this.account,
      sellId: source.oxSellId,
      jobId: job.id,
      kind: source.kind,
      totalMinor: source.totalMinor,
      note: formatFiscalNote(fiscalNoteOf(job.id, job.fiscal)),
    };
    if (source.payment) payload.payment = source.payment;
    return [{ kind: OX_REPORT_KIND, jobId: job.id, payload }];
  }

  /**
   * Writes the report back, each step only if the sell shows it still has to be done: payment (when the
   * sell's payments are still those seen at fiscalization), commit (when not finished), then the note
   * (when it does not carry this job's note yet).
   */
  private async deliver(entry: OutboxEntry): Promise<void> {
    const parsed = oxReportPayloadSchema.safeParse(entry.payload);
    if (entry.kind !== OX_REPORT_KIND || !parsed.success || parsed.data.account !== this.account) {
      throw new DeliveryError(
        'OX_REPORT_MALFORMED',
        `OX System ${this.account}: outbox entry ${entry.id} is not a sell report of this connector.`,
        { permanent: true, details: { account: this.account, entryId: entry.id, kind: entry.kind } },
      );
    }
    const report = parsed.data;
    const details = { account: this.account, sellId: report.sellId, jobId: report.jobId, entryId: entry.id };
    try {
      const steps = await this.writeBack(report);
      this.logger.info({ event: 'ox.report.delivered', ...details, steps }, 'sell updated in OX');
    } catch (error) {
      throw toDeliveryError(error, details);
    }
  }

  private async writeBack(report: OxReportPayload): Promise<string[]> {
    const steps: string[] = [];
    const sell = await this.fetchSell(report.sellId);
    const noted = parseFiscalNote(sell.note);
    if (noted?.job === report.jobId) return ['none: already noted'];
    if (noted) {
      throw new OxSellStateError(
        this.account,
        report.sellId,
        `it already carries the fiscal note of job ${noted.job} (device ${noted.device}); two receipts may exist for it`,
      );
    }
    const finished = !sell.draft && sell.finishedTime !== null;
    if (report.kind === 'finished' && !finished) {
      throw new OxSellStateError(
        this.account,
        report.sellId,
        'it was finished when printed but is not finished now',
      );
    }
    if (report.kind !== 'finished' && !finished) {
      const totalNow = sell.total.order[OX_CURRENCY];
      if (totalNow !== report.totalMinor) {
        throw new OxSellStateError(
          this.account,
          report.sellId,
          `its total changed from ${report.totalMinor} to ${totalNow} UZS after the receipt was printed; settle it by hand`,
        );
      }
      if (report.payment) {
        const paid = (sell.payments ?? [])
          .filter((p) => p.type === 'sell')
          .reduce((sum, p) => sum + p.price.order[OX_CURRENCY], 0);
        const { paidBeforeMinor, priceMinor, paymentMethod } = report.payment;
        if (paid === paidBeforeMinor) {
          await this.track(() =>
            this.client.addPayment(report.sellId, paymentMethod, priceMinor, this.abort.signal),
          );
          steps.push('payment');
        } else if (paid !== paidBeforeMinor + priceMinor) {
          throw new OxSellStateError(
            this.account,
            report.sellId,
            `its payments add up to ${paid} UZS; expected ${paidBeforeMinor} before the agent's payment of ${priceMinor}`,
          );
        }
      }
      await this.track(() => this.client.commit(report.sellId, this.abort.signal));
      steps.push('commit');
    }
    await this.track(() =>
      this.client.patchNote(report.sellId, appendFiscalNote(sell.note, report.note), this.abort.signal),
    );
    steps.push('note');
    return steps;
  }
}

function toDeliveryError(error: unknown, details: Record<string, unknown>): DeliveryError {
  // The sell changed in OX after printing: a person settles it, retrying cannot.
  if (error instanceof OxSellStateError) {
    return new DeliveryError(error.code, error.message, { permanent: true, details, cause: error });
  }
  return deliveryErrorOf(error, details, 'OX_DELIVERY_FAILED');
}

/** A refused login or token counts as offline too: nothing can be read until someone fixes it. */
function isTransportError(error: unknown): boolean {
  return isCloudUnavailable(error) || error instanceof OxAuthError;
}

function fieldOf(error: unknown): string | undefined {
  if (error instanceof ValidationError || error instanceof OxMalformedResponseError) return error.field;
  const field = error instanceof KktAgentError ? error.details['field'] : undefined;
  return typeof field === 'string' ? field : undefined;
}

/** A list row's id, if it has a readable one (for messages and paging). */
function idOf(row: unknown): string | undefined {
  if (row === null || typeof row !== 'object') return undefined;
  const id = (row as { id?: unknown }).id;
  if (typeof id === 'string' && id.length <= 64) return id;
  return isLosslessNumber(id) || typeof id === 'number' ? String(id) : undefined;
}

function timeOf(row: unknown): string | undefined {
  if (row === null || typeof row !== 'object') return undefined;
  const time = (row as { updatedTime?: unknown }).updatedTime;
  return typeof time === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(time) ? time : undefined;
}

/** Numeric ids in numeric order, others in text order. */
function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b))
    return a.length === b.length ? (a < b ? -1 : a > b ? 1 : 0) : a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
