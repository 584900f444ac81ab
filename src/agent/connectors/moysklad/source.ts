import { errorMessage, KktAgentError, ValidationError } from '../../../lib/errors.js';
import type { IntakeResult } from '../../jobs/intake.js';
import type { BillKey, JobTrigger } from '../../jobs/job.js';
import { rowDigest } from '../failingBills.js';
import type { BillSource, ConnectorRuntime, PollCycle } from '../runtime.js';
import type { BillCommand } from '../types.js';
import type { MoyskladAccount } from './account.js';
import type { MoyskladClient } from './client.js';
import type { MoyskladAccountConfig } from './config.js';
import {
  MoyskladApiError,
  MoyskladAuthError,
  MoyskladBillError,
  MoyskladMalformedResponseError,
  MoyskladOrderLookupError,
  MoyskladRateLimitError,
  MoyskladUnavailableError,
} from './errors.js';
import {
  agentIdOf,
  counterpartyContact,
  customerOrderBillId,
  customerOrderSkipReason,
  fieldOf,
  findCounterparty,
  MOYSKLAD_SOURCE,
  mapCustomerOrder,
  mapMasterOperation,
  masterOperationKey,
  parseCustomerOrder,
} from './mapping.js';
import { syncMeta, UUID_PATTERN } from './wire.js';

/**
 * The bills of one MoySklad store: the master cloud-cheque queue (one operation at a time) or posted
 * customer orders, polled; and a customer order on a technician's command, in either mode.
 */

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
  /** Orders that could not be taken this time; each is tried again after its own backoff. */
  failed: number;
  /** Orders that failed before and whose backoff has not passed. */
  waiting: number;
}

type OperationMeta = Record<string, string | number | boolean | null>;
type CustomerOrder = ReturnType<typeof parseCustomerOrder>;

export class MoyskladSource implements BillSource<MoyskladPollResult> {
  private lastPoll: { at: string; result: MoyskladPollResult } | undefined;
  /** Metas of polled operations, for rejects of operations that never became a bill. */
  private readonly operationMetas = new Map<string, OperationMeta>();

  constructor(
    private readonly runtime: ConnectorRuntime<MoyskladPollResult>,
    private readonly client: MoyskladClient,
    private readonly store: MoyskladAccount,
    private readonly config: MoyskladAccountConfig,
  ) {}

  get polls(): boolean {
    return this.config.mode === 'master' || this.config.customerOrders.autoFiscalize;
  }

  /** While a person must re-pair, polls come at the slower auth pace instead of hammering with a dead token. */
  pollIntervalMs(): number {
    return this.runtime.health.alert
      ? Math.max(this.config.pollIntervalMs, this.config.authRetryMs)
      : this.config.pollIntervalMs;
  }

  status(): Record<string, unknown> {
    return { lastPoll: this.lastPoll };
  }

  /** One poll of the configured mode. */
  poll(cycle: PollCycle): Promise<MoyskladPollResult> {
    return this.config.mode === 'master' ? this.pollMaster(cycle) : this.pollOrders(cycle);
  }

  /** The meta of a polled operation; after a restart rebuilt from `type:syncId` (posap addresses by syncId). */
  operationMetaOf(billId: string): OperationMeta | undefined {
    const known = this.operationMetas.get(billId);
    if (known) return known;
    const found = /^([a-z]+):([0-9a-f-]{36})$/.exec(billId);
    if (!found || !UUID_PATTERN.test(found[2]!)) return undefined;
    return { ...syncMeta(this.config.baseUrl, found[1]!, found[2]!), id: found[2]!, idType: 'sync' };
  }

  /** What either mode's poll starts with: the token, and settings (stale ones will do). */
  private async beginPoll(): Promise<MoyskladPollResult> {
    this.runtime.context('poll');
    await this.store.ensureCredentials();
    await this.store.settings().catch(() => undefined);
    return { seen: 0, submitted: 0, rejected: 0, known: 0, skipped: 0, unreadable: 0, failed: 0, waiting: 0 };
  }

  private async pollMaster(cycle: PollCycle): Promise<MoyskladPollResult> {
    const { runtime } = this;
    const { account } = runtime;
    const intake = runtime.context('poll').intake;
    const result = await this.beginPoll();
    const organizationId = this.store.organizationId();
    if (organizationId === undefined) {
      const error = new MoyskladMalformedResponseError(
        account,
        'GET /settings/retailstore/',
        'no organization.id, so there is no queue to poll',
      );
      if (this.store.hasSettings) runtime.health.failed(error);
      throw error;
    }
    await runtime.eachBill(this.queue(organizationId), async (raw) => {
      result.seen++;
      const key = masterOperationKey(raw);
      if (key === undefined) {
        result.unreadable++;
        const error = new MoyskladMalformedResponseError(
          account,
          'GET /cheque/rpc/master/poll',
          'the operation has no usable meta; it cannot be fiscalized or rejected',
        );
        runtime.health.failed(error);
        runtime.logger.error({ event: 'moysklad.master.unreadable', account }, error.message);
        return 'stop';
      }
      this.operationMetas.set(key.billId, key.meta);
      if (intake.find(this.keyOf(key.billId))) {
        // The queue hands out the same operation until it is approved or rejected (no lease is documented):
        // the report is on its way, so stop here rather than spin on it.
        result.known++;
        return 'stop';
      }
      let mapped: ReturnType<typeof mapMasterOperation>;
      try {
        mapped = mapMasterOperation(raw, key, {
          account,
          defaultTaxSystem: this.store.defaultTaxSystem('master'),
          cashiers: this.store.cashiers,
          ...(this.store.phonePriority !== undefined ? { phonePriority: this.store.phonePriority } : {}),
        });
      } catch (error) {
        if (!(error instanceof KktAgentError)) throw error;
        runtime.logger.warn(
          {
            event: 'moysklad.master.rejected',
            account,
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
          trigger: cycle.trigger,
        });
        result.rejected++;
        return 'next';
      }
      const submitted = await intake.submit({
        bill: mapped.bill,
        operation: mapped.operation,
        trigger: cycle.trigger,
        ...(this.config.device !== undefined ? { deviceId: this.config.device } : {}),
      });
      if (submitted.duplicate) result.known++;
      else result.submitted++;
      runtime.logger.info(
        {
          event: 'moysklad.master.submitted',
          account,
          billId: key.billId,
          jobId: submitted.job.id,
          duplicate: submitted.duplicate,
        },
        'queued operation handed to the fiscalizer',
      );
      return 'next';
    });
    return this.finishPoll(cycle, result);
  }

  /** The master queue, one operation per request, at most `maxOperationsPerPoll`, until it is empty. */
  private async *queue(organizationId: string): AsyncGenerator<unknown> {
    const { runtime } = this;
    for (let taken = 0; taken < this.config.maxOperationsPerPoll && runtime.running; taken++) {
      const raw = await runtime.track(() => this.client.pollMaster(organizationId, runtime.signal));
      if (raw === undefined) return;
      yield raw;
    }
  }

  private async pollOrders(cycle: PollCycle): Promise<MoyskladPollResult> {
    const { runtime } = this;
    const intake = runtime.context('poll').intake;
    const result = await this.beginPoll();
    const rows = await runtime.track(() => this.client.customerOrders(runtime.signal));
    result.seen = rows.length;
    const orders: CustomerOrder[] = [];
    rows.forEach((row, index) => {
      try {
        orders.push(parseCustomerOrder(row));
      } catch (error) {
        result.unreadable++;
        // One warning per broken row: it is listed again every poll until someone fixes it.
        const news = runtime.failingBills.firstWarning(rowKeyOf(row, index), rowDigest(row));
        runtime.logger[news ? 'warn' : 'debug'](
          { event: 'moysklad.order.unreadable', account: runtime.account, field: fieldOf(error) },
          'a customer order row is not readable; skipped',
        );
      }
    });
    // Oldest first; `moment` is `YYYY-MM-DD HH:mm:ss`, so text order is time order.
    orders.sort((a, b) => (a.moment ?? '').localeCompare(b.moment ?? ''));
    const { notBefore, states } = this.config.customerOrders;
    await runtime.eachBill(
      orders,
      async (order) => {
        if (intake.find(this.keyOf(customerOrderBillId(order.id)))) {
          result.known++;
          return;
        }
        if (
          (notBefore !== undefined && (order.moment === undefined || order.moment < notBefore)) ||
          (states.length > 0 && !states.includes(order.state?.name ?? '')) ||
          customerOrderSkipReason(order) !== undefined
        ) {
          result.skipped++;
          return;
        }
        const outcome = await this.submitOrder(order, this.config.customerOrders.payment, cycle.trigger);
        if (outcome.job.state === 'FAILED' && !outcome.duplicate) result.rejected++;
        else if (outcome.duplicate) result.known++;
        else result.submitted++;
      },
      {
        idOf: (order) => customerOrderBillId(order.id),
        passedOver: () => {
          result.waiting++;
        },
        failed: () => {
          result.failed++;
        },
      },
    );
    runtime.failingBills.keepOnly(
      new Set([...orders.map((order) => customerOrderBillId(order.id)), ...rows.map(rowKeyOf)]),
    );
    return this.finishPoll(cycle, result);
  }

  private finishPoll(cycle: PollCycle, result: MoyskladPollResult): MoyskladPollResult {
    const { runtime } = this;
    this.lastPoll = { at: runtime.now().toISOString(), result };
    runtime.logger[result.submitted + result.rejected > 0 ? 'info' : 'debug'](
      {
        event: 'moysklad.poll.completed',
        account: runtime.account,
        mode: this.config.mode,
        cycle: cycle.number,
        ...result,
      },
      'MoySklad poll completed',
    );
    return result;
  }

  private async submitOrder(
    order: CustomerOrder,
    payment: 'card' | 'cash',
    trigger: JobTrigger,
  ): Promise<IntakeResult> {
    const { runtime } = this;
    const { account } = runtime;
    const intake = runtime.context('fiscalize an order').intake;
    const billId = customerOrderBillId(order.id);
    // Before the try: MoySklad being down defers the order (the poll retries it after its backoff; a
    // command answers the error), it is no reason to refuse it.
    const counterparty = await this.orderCounterparty(order, billId);
    try {
      const cashier = this.store.pairedCashier();
      const emailOrPhone =
        counterparty === undefined ? undefined : counterpartyContact(counterparty, this.store.phonePriority);
      const bill = mapCustomerOrder(order, {
        account,
        payment,
        defaultTaxSystem: this.store.defaultTaxSystem('order'),
        ...(cashier ? { cashier } : {}),
        ...(emailOrPhone !== undefined ? { emailOrPhone } : {}),
      });
      const outcome = await intake.submit({
        bill,
        trigger,
        ...(this.config.device !== undefined ? { deviceId: this.config.device } : {}),
      });
      runtime.logger.info(
        {
          event: 'moysklad.order.submitted',
          account,
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
      runtime.logger.warn(
        { event: 'moysklad.order.rejected', account, billId, code: error.code, field: fieldOf(error) },
        'the customer order cannot be fiscalized as it stands',
      );
      return intake.reject({ key: this.keyOf(billId), number: order.name.slice(0, 64), error, trigger });
    }
  }

  /**
   * The order's counterparty row, whose contact the electronic receipt goes to (docs/moysklad.md, "The
   * buyer's contact"), or undefined when there is none to look for: the store does not send e-receipts
   * (`ofdEnabled` not true), the order is for the default retail buyer (no `agent`), or the agent has no
   * name to search by. posap serves a counterparty only through `GET /entity/counterparty?search=`, so the
   * buyer is searched by name and picked by id. MoySklad down, rate-limited or refusing the token: thrown,
   * so the order waits. Any other failure, or no row with that id: undefined (the receipt is printed
   * without a contact, never sent to a guessed one), with a warning that names no contact.
   */
  private async orderCounterparty(order: CustomerOrder, billId: string): Promise<unknown> {
    const { runtime } = this;
    const agentId = agentIdOf(order);
    const name = order.agent?.name?.trim();
    if (this.store.sendsElectronicReceipts !== true || agentId === undefined || !name) return undefined;
    let rows: unknown[];
    try {
      rows = await runtime.track(() => this.client.counterparties(name, runtime.signal));
    } catch (error) {
      // Transport errors (unreachable, timeout, too large) are no MoyskladApiError: thrown as well.
      const refusedForGood =
        (error instanceof MoyskladApiError &&
          !(error instanceof MoyskladAuthError) &&
          !(error instanceof MoyskladRateLimitError) &&
          !(error instanceof MoyskladUnavailableError)) ||
        error instanceof MoyskladMalformedResponseError;
      if (!refusedForGood) throw error;
      this.warnNoContact(billId, error.code);
      return undefined;
    }
    const row = findCounterparty(rows, agentId);
    if (row === undefined) this.warnNoContact(billId, 'COUNTERPARTY_NOT_FOUND');
    return row;
  }

  private warnNoContact(billId: string, reason: string): void {
    this.runtime.logger.warn(
      { event: 'moysklad.order.contact_unavailable', account: this.runtime.account, billId, reason },
      "no contact could be read for the order's counterparty: its receipt carries no buyer contact (tag 1008)",
    );
  }

  /**
   * A technician's command: a customer order by id (`billId`, with or without `customerorder:`) or by its
   * number (`name`). Works in both modes; the receipt is reported as a retail demand linked to the order.
   */
  async fiscalizeOnCommand(command: BillCommand): Promise<IntakeResult> {
    const { runtime } = this;
    const intake = runtime.context('fiscalize an order').intake;
    await this.store.ensureCredentials();
    await this.store.settings().catch(() => undefined);
    let order: CustomerOrder;
    if (command.billId !== undefined) {
      const id = command.billId.replace(/^customerorder:/, '');
      if (!UUID_PATTERN.test(id)) throw new ValidationError('billId', 'expected a customer order id (UUID)');
      const existing = intake.find(this.keyOf(customerOrderBillId(id)));
      if (existing && existing.state !== 'FAILED') return { job: existing, duplicate: true };
      const raw = await runtime.track(() => this.client.customerOrder(id, runtime.signal));
      order = this.parseOrderOrThrow(raw, `GET /entity/customerorder/${id}`);
    } else if (command.number !== undefined) {
      const rows = await runtime.track(() => this.client.customerOrders(runtime.signal));
      const matches = rows.flatMap((row) => {
        try {
          const parsed = parseCustomerOrder(row);
          return parsed.name === command.number ? [parsed] : [];
        } catch {
          return [];
        }
      });
      if (matches.length !== 1)
        throw new MoyskladOrderLookupError(runtime.account, `number "${command.number}"`, matches.length);
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

  private parseOrderOrThrow(raw: unknown, endpoint: string): CustomerOrder {
    try {
      return parseCustomerOrder(raw);
    } catch (error) {
      throw new MoyskladMalformedResponseError(this.runtime.account, endpoint, errorMessage(error), error);
    }
  }

  private keyOf(billId: string): BillKey {
    return { source: MOYSKLAD_SOURCE, account: this.runtime.account, billId };
  }
}

/** A listed row's name for its one warning: its id, else its place in the list. */
function rowKeyOf(row: unknown, index: number): string {
  const id = (row as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? customerOrderBillId(id) : `#${index}`;
}
