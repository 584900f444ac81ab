import type { z } from 'zod';
import { errorCode, KktAgentError, ValidationError } from '../../../lib/errors.js';
import type { IntakeResult } from '../../jobs/intake.js';
import type { BillKey, JobTrigger } from '../../jobs/job.js';
import { rowDigest } from '../failingBills.js';
import type { BillSource, ConnectorRuntime, PollCycle } from '../runtime.js';
import type { BillCommand } from '../types.js';
import type { OxCashdeskCache } from './cashdesk.js';
import type { OxClient } from './client.js';
import { OX_SELL_KINDS, type OxAccountConfig, type OxSellKind } from './config.js';
import { compareIds, cursorBefore, idOf, narrowerWindow, OX_TIME_PATTERN, timeOf } from './cursor.js';
import { OxMalformedResponseError, OxSellStateError } from './errors.js';
import { liveRecords, mapOxSell, OX_SOURCE, variationIdsToLookUp } from './mapping.js';
import { type Selection, type SelectionPolicy, selectSell } from './selection.js';
import { formatOxDateTime } from './time.js';
import { type OxCashdesk, type OxSell, type OxVariation, sellHeadSchema, sellSchema } from './wire.js';

/**
 * The bills of one OX System account and cashdesk: the sells its policy selects, polled by `updatedTime`
 * from a cursor that is stored and never passes a sell that still has to be looked at, or one sell on a
 * technician's command.
 */

export const OX_CURSOR_KEY = 'cursor';

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

type Outcome = 'known' | 'submitted' | 'rejected' | 'skipped' | 'deferred';
type SellHead = z.output<typeof sellHeadSchema>;

export class OxSource implements BillSource<OxPollResult> {
  private cursorValue: string | undefined;
  /** `updatedTime[max]` of the next poll, while a backlog is read in narrower windows (memory only). */
  private windowEnd: string | undefined;
  private lastPoll: { at: string; result: OxPollResult } | undefined;

  constructor(
    private readonly runtime: ConnectorRuntime<OxPollResult>,
    private readonly client: OxClient,
    private readonly cashdesks: OxCashdeskCache,
    private readonly config: OxAccountConfig,
    private readonly now: () => number,
  ) {}

  get polls(): boolean {
    return this.config.poll.enabled;
  }

  pollIntervalMs(): number {
    return this.config.poll.intervalMs;
  }

  /** The `updatedTime[min]` of the next poll (OX local time); known once started. */
  get cursor(): string | undefined {
    return this.cursorValue;
  }

  async open(): Promise<void> {
    const { runtime } = this;
    const store = runtime.startedContext!.store;
    this.client.setLogger(runtime.logger);
    const stored = store.get<unknown>(OX_CURSOR_KEY);
    if (typeof stored === 'string' && OX_TIME_PATTERN.test(stored)) {
      this.cursorValue = stored;
      return;
    }
    // Fixed at the first start and stored, so a restart never moves "now" past unprinted sells.
    this.cursorValue =
      this.config.startFrom === 'now'
        ? formatOxDateTime(new Date(this.now()), this.config.timeZone)
        : this.config.startFrom;
    await store.set(OX_CURSOR_KEY, this.cursorValue);
    runtime.logger.info(
      { event: 'ox.cursor.initialized', account: runtime.account, cursor: this.cursorValue },
      'OX cursor set',
    );
  }

  status(): Record<string, unknown> {
    return {
      cashdesk: this.config.cashdesk,
      policy: this.config.policy,
      cursor: this.cursorValue,
      token: this.client.tokenStatus(),
      lastPoll: this.lastPoll,
    };
  }

  /** A technician's command: the sell by id (`billId`, or `number`: OX sells have no other number). */
  async fiscalizeOnCommand(command: BillCommand): Promise<IntakeResult> {
    const { account } = this.runtime;
    const context = this.runtime.context('fiscalize a sell');
    const sellId = command.billId ?? command.number;
    if (sellId === undefined) throw new ValidationError('billId', 'give the OX sell id');
    const existing = context.intake.find(this.keyOf(sellId));
    if (existing) return { job: existing, duplicate: true };
    const cashdesk = await this.cashdesks.load();
    const everything: SelectionPolicy = {
      ...this.selectionPolicy(),
      kinds: OX_SELL_KINDS,
      openSettleSeconds: 0,
    };
    const sell = await this.fetchSell(sellId);
    const selection = selectSell(sell, everything, this.now());
    if (!selection.select) {
      throw new OxSellStateError(
        account,
        sellId,
        `it is not a bill the agent can fiscalize (${selection.detail})`,
      );
    }
    const outcome = await this.submitSell(sell, selection.kind, cashdesk, command.trigger, command.payment);
    if (typeof outcome === 'string') {
      throw new OxSellStateError(account, sellId, `it has nothing to fiscalize (${outcome})`);
    }
    return outcome;
  }

  /** One poll: the cashdesk, every sell updated since the cursor, each selected one to the intake. */
  async poll(cycle: PollCycle): Promise<OxPollResult> {
    try {
      return await this.runPoll(cycle);
    } catch (error) {
      this.runtime.health.failed(error);
      throw error;
    }
  }

  private async runPoll(cycle: PollCycle): Promise<OxPollResult> {
    const { runtime } = this;
    runtime.context('poll');
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
    const cashdesk = await this.cashdesks.load();
    const windowEnd = this.windowEnd;
    const { rows, complete } = await this.listSince(startCursor, windowEnd);
    result.listed = rows.length;

    /** Times the cursor must not pass; `startCursor` when a broken row's time is unknown. */
    const holds: string[] = [];
    const heads = this.readHeads(rows, result, holds, startCursor);
    let newest = startCursor;
    const taken = await runtime.eachBill(
      heads,
      async (head) => {
        if (head.updatedTime > newest) newest = head.updatedTime;
        const outcome = await this.consider(head, cashdesk, cycle.trigger);
        result[outcome]++;
        if (outcome === 'deferred') holds.push(head.updatedTime);
      },
      {
        idOf: (head) => head.id,
        // Passed over while its backoff runs: the cursor must not pass it.
        passedOver: (head) => {
          result.deferred++;
          holds.push(head.updatedTime);
        },
        // The card failed as OX would if it were down: the cashdesk (cached for the poll) asks again.
        cloudUp: () => this.cashdesks.load({ fresh: true }),
        failed: (_error, head) => {
          result.deferred++;
          holds.push(head.updatedTime);
        },
      },
    );
    runtime.failingBills.keepOnly(new Set(rows.map(rowKeyOf)));
    // Sells left when the connector stopped are looked at again next time.
    for (const head of heads.slice(taken)) holds.push(head.updatedTime);

    const next = complete
      ? this.advance(holds, newest, startCursor, windowEnd)
      : this.narrow(startCursor, windowEnd);
    if (next !== startCursor) {
      await runtime.context('poll').store.set(OX_CURSOR_KEY, next);
      this.cursorValue = next;
    }
    result.cursor = this.cursorValue!;
    this.lastPoll = { at: new Date(this.now()).toISOString(), result };
    runtime.logger.info({ event: 'ox.poll.done', account: runtime.account, ...result }, 'OX poll done');
    return result;
  }

  /** The rows as sell heads, oldest first; a row too broken to classify holds the cursor at its time. */
  private readHeads(rows: unknown[], result: OxPollResult, holds: string[], startCursor: string): SellHead[] {
    const { runtime } = this;
    const endpoint = this.client.endpointFor('sellList');
    const heads: SellHead[] = [];
    rows.forEach((row, index) => {
      try {
        heads.push(
          this.client.shape(sellHeadSchema, row, endpoint, { root: `items[${index}]`, sellId: idOf(row) }),
        );
      } catch (error) {
        result.malformed++;
        runtime.health.failed(error);
        // One warning per broken row; it is listed again every poll (it holds the cursor) until it changes.
        const news = runtime.failingBills.firstWarning(rowKeyOf(row, index), rowDigest(row));
        runtime.logger[news ? 'warn' : 'debug'](
          {
            event: 'ox.sell.malformed',
            account: runtime.account,
            sellId: idOf(row),
            code: errorCode(error),
            field: fieldOf(error),
          },
          'a sell in the list is too broken to classify; it is looked at again next poll',
        );
        holds.push(timeOf(row) ?? startCursor);
      }
    });
    return heads.sort((a, b) =>
      a.updatedTime === b.updatedTime ? compareIds(a.id, b.id) : a.updatedTime < b.updatedTime ? -1 : 1,
    );
  }

  /** All of the window was read: the cursor moves to the earliest held sell, or past the newest one read. */
  private advance(
    holds: string[],
    newest: string,
    startCursor: string,
    windowEnd: string | undefined,
  ): string {
    const zone = this.config.timeZone;
    // OX times sort as text: the earliest held row is the first.
    const held = [...holds].sort()[0];
    this.windowEnd = undefined;
    // A closed window ends in the past (before any second OX can still write into): all of it is read.
    if (held !== undefined) return cursorBefore(held, startCursor, zone);
    return windowEnd ?? cursorBefore(newest, startCursor, zone);
  }

  /** Some rows were not read and their order is unknown: the cursor waits, the window shrinks. */
  private narrow(startCursor: string, windowEnd: string | undefined): string {
    const narrower = narrowerWindow(startCursor, windowEnd, this.now(), this.config.timeZone);
    this.windowEnd = narrower;
    this.runtime.logger.warn(
      {
        event: 'ox.poll.truncated',
        account: this.runtime.account,
        pages: this.config.poll.maxPages,
        windowEnd: narrower,
      },
      narrower
        ? 'more sells changed than maxPages pages hold; the next poll reads a narrower window'
        : 'more sells changed within two seconds than maxPages pages hold; raise poll.maxPages',
    );
    return startCursor;
  }

  private async listSince(
    cursor: string,
    windowEnd: string | undefined,
  ): Promise<{ rows: unknown[]; complete: boolean }> {
    const { runtime } = this;
    const rows: unknown[] = [];
    const seen = new Set<string>();
    let firstPageSize = 0;
    for (let page = 1; page <= this.config.poll.maxPages; page++) {
      const items = await runtime.track(() =>
        this.client.listSells(
          {
            cashdesk: this.config.cashdesk,
            updatedTimeMin: cursor,
            ...(windowEnd !== undefined ? { updatedTimeMax: windowEnd } : {}),
            page,
          },
          runtime.signal,
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

  private async consider(head: SellHead, cashdesk: OxCashdesk, trigger: JobTrigger): Promise<Outcome> {
    const first = selectSell(head, this.selectionPolicy(), this.now());
    if (!first.select) return this.notSelected(head.id, first);
    const context = this.runtime.context('poll');
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
    this.runtime.logger.debug(
      {
        event: 'ox.sell.skipped',
        account: this.runtime.account,
        sellId,
        why: selection.why,
        detail: selection.detail,
      },
      'sell not selected',
    );
    return selection.why === 'later' ? 'deferred' : 'skipped';
  }

  /** The sell's card, shaped (the sink reads it too, before each write step). */
  async fetchSell(sellId: string): Promise<OxSell> {
    const raw = await this.runtime.track(() => this.client.sell(sellId, this.runtime.signal));
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
    const { runtime } = this;
    const context = runtime.context('fiscalize a sell');
    if (liveRecords(sell).length === 0) return 'skipped';
    if ((sell.refundRecords?.length ?? 0) > 0 || (sell.returnRecords?.length ?? 0) > 0) {
      runtime.logger.info(
        { event: 'ox.sell.skipped', account: runtime.account, sellId: sell.id, why: 'refund' },
        'sells with refund or return lines are not fiscalized by the agent',
      );
      return 'skipped';
    }
    const addedPayment =
      kind === 'finished'
        ? undefined
        : this.cashdesks.paymentMethodFor(cashdesk, paymentChoice ?? this.config.payments.default);
    const variations = this.config.vat.lookupVariations ? await this.lookUpVariations(sell) : undefined;
    let bill: ReturnType<typeof mapOxSell>;
    try {
      bill = mapOxSell({
        account: runtime.account,
        sell,
        kind,
        cashdesk: this.config.cashdesk,
        paymentTypeOf: (methodId) => this.cashdesks.paymentTypeOf(cashdesk, methodId),
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
    runtime.logger.info(
      {
        event: 'ox.sell.submitted',
        account: runtime.account,
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
    const { runtime } = this;
    runtime.logger.warn(
      {
        event: 'ox.sell.rejected',
        account: runtime.account,
        sellId,
        code: error.code,
        field: fieldOf(error),
      },
      'OX sent a sell that cannot be fiscalized',
    );
    await runtime
      .context('reject a sell')
      .intake.reject({ key: this.keyOf(sellId), number: sellId, error, trigger });
    return 'rejected';
  }

  private async lookUpVariations(sell: OxSell): Promise<Map<string, OxVariation>> {
    const found = new Map<string, OxVariation>();
    for (const id of variationIdsToLookUp(sell)) {
      found.set(id, await this.runtime.track(() => this.client.variation(id, this.runtime.signal)));
    }
    return found;
  }

  private keyOf(sellId: string): BillKey {
    return { source: OX_SOURCE, account: this.runtime.account, billId: sellId };
  }
}

/** A listed row's name for its backoff and its one warning: its id, else its place in the list. */
function rowKeyOf(row: unknown, index: number): string {
  return idOf(row) ?? `#${index}`;
}

function fieldOf(error: unknown): string | undefined {
  if (error instanceof ValidationError || error instanceof OxMalformedResponseError) return error.field;
  const field = error instanceof KktAgentError ? error.details['field'] : undefined;
  return typeof field === 'string' ? field : undefined;
}
