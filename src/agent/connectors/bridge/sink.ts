import { ValidationError } from '../../../lib/errors.js';
import { DeliveryError } from '../../outbox/deliveryError.js';
import { reportId } from '../../outbox/reportId.js';
import type { AgentEvent, OutboxDraft, OutboxEntry, ReportSink } from '../../outbox/sink.js';
import { ConnectorNotStartedError, type ConnectorPart, type ConnectorRuntime } from '../runtime.js';
import { deliveryErrorOf, isJobOf } from '../sink.js';
import type { BridgeClient } from './client.js';
import type { BridgeAccountConfig } from './config.js';
import { BridgeReportError } from './errors.js';
import {
  type BridgeIdentity,
  buildReceiptCreated,
  type ReceiptCreatedPayload,
  receiptCreatedPayloadSchema,
  withTimestamp,
} from './event.js';
import { resolveBridgeIdentity } from './identity.js';
import { BRIDGE_SOURCE } from './mapping.js';

export const RECEIPT_CREATED_KIND = 'bridge.receiptCreated';

/**
 * The ReceiptCreated events of one bridge account: drafted once per fiscalized sale of its bills (their
 * ids named by the job, and the account's Evotor-style ids resolved at start), POSTed with the send's time.
 */
export class BridgeSink implements ReportSink, ConnectorPart {
  readonly name: string;
  private identityValue: BridgeIdentity | undefined;

  constructor(
    private readonly runtime: ConnectorRuntime,
    private readonly client: BridgeClient,
    private readonly config: BridgeAccountConfig,
  ) {
    this.name = runtime.name;
  }

  /** The ids this account's events carry; known once the connector has started. */
  get identity(): BridgeIdentity | undefined {
    return this.identityValue;
  }

  async open(): Promise<void> {
    const { runtime } = this;
    const store = runtime.startedContext?.store;
    if (!store) throw new ConnectorNotStartedError(runtime.cloud, runtime.account, 'resolve its ids');
    const { identity, generated } = await resolveBridgeIdentity(this.config.ids, store, runtime.now());
    this.identityValue = identity;
    if (generated.length > 0) {
      runtime.logger.info(
        { event: 'bridge.identity.generated', account: runtime.account, ids: generated },
        'generated and stored the Evotor-style ids of this bridge account',
      );
    }
  }

  /**
   * The ids in `status`: a technician copies them into `connectors.bridge[].ids` once, so that a new SD
   * card keeps them (docs/operations.md, "Replacing the SD card").
   */
  status(): Record<string, unknown> {
    return this.identityValue ? { ids: { ...this.identityValue } } : {};
  }

  /** A ReceiptCreated for each fiscalized sale of this account's bills; its ids are the job's, always the same. */
  draft(event: AgentEvent): OutboxDraft[] {
    if (event.type !== 'job.fiscalized') return [];
    const { job } = event;
    const { account } = this.runtime;
    if (!isJobOf(job, BRIDGE_SOURCE, account)) return [];
    // A sale fiscalized late as a correction (intake.lateCorrectionAfterDays) is still the bill's one
    // receipt: the bridge learns of it as of any sale.
    if (job.operation !== 'sell' && job.operation !== 'sellCorrection') {
      // The POS app's event for a return is unknown (docs/protocol/bridge-api-v2.md §11); nothing is sent
      // rather than a guess.
      this.runtime.logger.warn(
        { event: 'bridge.report.skipped', account, jobId: job.id, operation: job.operation },
        'no ReceiptCreated for a return',
      );
      return [];
    }
    const identity = this.identityValue;
    if (!identity) throw new ConnectorNotStartedError(this.runtime.cloud, account, 'draft a ReceiptCreated');
    if (!job.bill) throw new BridgeReportError(account, job.id, 'the job has no bill');
    if (!job.fiscal) throw new BridgeReportError(account, job.id, 'the job has no fiscal data');
    let receipt: ReturnType<typeof buildReceiptCreated>;
    try {
      receipt = buildReceiptCreated({
        bill: job.bill,
        fiscal: job.fiscal,
        identity,
        // Named by the job (derived from the bill's key), not random: a store rebuilt from the register
        // drafts the same event again with the same ids, which a bridge can deduplicate (docs/bridge.md).
        eventId: reportId(this.name, RECEIPT_CREATED_KIND, job.id, 'event'),
        receiptId: reportId(this.name, RECEIPT_CREATED_KIND, job.id, 'receipt'),
      });
    } catch (error) {
      if (error instanceof ValidationError) throw new BridgeReportError(account, job.id, error.message);
      throw error;
    }
    const payload: ReceiptCreatedPayload = { account, billId: job.bill.billId, event: receipt };
    return [{ kind: RECEIPT_CREATED_KIND, jobId: job.id, payload }];
  }

  /**
   * POSTs the drafted event with this send's timestamp. Throws DeliveryError: permanent for a 4xx other
   * than 408/429 (and for a payload that is not ours), retryable otherwise, with `Retry-After` honoured.
   */
  async deliver(entry: OutboxEntry): Promise<void> {
    const { runtime } = this;
    const { account } = runtime;
    const parsed = receiptCreatedPayloadSchema.safeParse(entry.payload);
    if (entry.kind !== RECEIPT_CREATED_KIND || !parsed.success) {
      throw new DeliveryError(
        'BRIDGE_REPORT_MALFORMED',
        `Bridge ${account}: outbox entry ${entry.id} is not a ReceiptCreated draft of this connector.`,
        { permanent: true, details: { account, entryId: entry.id, kind: entry.kind } },
      );
    }
    // The stored draft, not the schema's copy: its key order is the one that was drafted.
    const { event, billId } = entry.payload as ReceiptCreatedPayload;
    const body = JSON.stringify(withTimestamp(event, runtime.now().getTime()));
    try {
      const answer = await runtime.track(() => this.client.postReceipt(body, runtime.signal));
      runtime.logger.info(
        {
          event: 'bridge.receipt.delivered',
          account,
          billId,
          jobId: entry.jobId,
          status: answer.status,
          answerBytes: answer.bodyBytes,
        },
        'ReceiptCreated delivered',
      );
    } catch (error) {
      throw deliveryErrorOf(error, { account, billId, entryId: entry.id }, 'BRIDGE_DELIVERY_FAILED');
    }
  }
}
