import { errorMessage } from '../../lib/errors.js';
import { changeMinor } from '../domain/bill.js';
import type { Job } from '../jobs/job.js';
import { DeliveryError } from '../outbox/deliveryError.js';
import { reportId } from '../outbox/reportId.js';
import type { AgentEvent, OutboxDraft, OutboxEntry, ReportSink } from '../outbox/sink.js';
import type { PublishOptions } from './connection.js';

export const MQTT_RECEIPT_KIND = 'mqtt.receipt';

/** `…/event/receipt`: a fiscalized receipt. No customer contacts, ever. */
export interface ReceiptEvent {
  /**
   * Named by the job: a redelivery (QoS 1, outbox retry) and a report drafted again by a store rebuilt
   * from the register carry the same id; consumers dedupe on it (docs/mqtt.md).
   */
  eventId: string;
  type: 'receipt';
  jobId: string;
  operation: Job['operation'];
  fiscalizedAt: string;
  trigger: Job['trigger']['kind'];
  bill: {
    source: string;
    account: string;
    billId: string;
    number?: string;
    totalMinor?: number;
    currency?: string;
    positionsCount?: number;
    /** What was tendered; cash over the total came back as `changeMinor`. */
    payments?: Array<{ type: string; amountMinor: number }>;
    changeMinor?: number;
  };
  fiscal: Job['fiscal'];
  /** The receipt this one returns or corrects: its job and fiscal data (docs/mqtt.md). */
  related?: Job['related'];
  /** A correction's basis (tags 1173, 1178, 1179). */
  correction?: NonNullable<Job['bill']>['correction'];
}

export function receiptEvent(job: Job): ReceiptEvent {
  return {
    eventId: reportId('mqtt', MQTT_RECEIPT_KIND, job.id),
    type: 'receipt',
    jobId: job.id,
    operation: job.operation,
    fiscalizedAt: job.updatedAt,
    trigger: job.trigger.kind,
    bill: {
      ...job.summary,
      positionsCount: job.bill?.positions.length,
      payments: job.bill?.payments.map((p) => ({ type: p.type, amountMinor: p.amountMinor })),
      ...(job.bill && changeMinor(job.bill) > 0 ? { changeMinor: changeMinor(job.bill) } : {}),
    },
    fiscal: job.fiscal,
    ...(job.related ? { related: job.related } : {}),
    ...(job.bill?.correction ? { correction: job.bill.correction } : {}),
  };
}

/** What the sink needs of the connection. */
export interface ReceiptPublisher {
  readonly connected: boolean;
  publish(topic: string, payload: string, options: PublishOptions): Promise<void>;
}

/**
 * The `mqtt` report sink: one `event/receipt` per fiscalized job, buffered by the outbox while the broker
 * is unreachable. Delivered means PUBACK received; disconnected is a retryable failure.
 */
export class MqttReceiptSink implements ReportSink {
  readonly name = 'mqtt';

  constructor(
    private readonly publisher: ReceiptPublisher,
    private readonly topic: string,
  ) {}

  draft(event: AgentEvent): OutboxDraft[] {
    if (event.type !== 'job.fiscalized') return [];
    return [{ kind: MQTT_RECEIPT_KIND, jobId: event.job.id, payload: receiptEvent(event.job) }];
  }

  async deliver(entry: OutboxEntry): Promise<void> {
    if (entry.kind !== MQTT_RECEIPT_KIND) {
      throw new DeliveryError(
        'MQTT_UNKNOWN_REPORT',
        `The mqtt sink cannot deliver "${entry.kind}" reports.`,
        {
          permanent: true,
        },
      );
    }
    if (!this.publisher.connected) {
      throw new DeliveryError('MQTT_NOT_CONNECTED', 'The MQTT broker is not connected; the receipt waits.', {
        permanent: false,
      });
    }
    try {
      await this.publisher.publish(this.topic, JSON.stringify(entry.payload), { qos: 1 });
    } catch (error) {
      throw new DeliveryError('MQTT_PUBLISH_FAILED', errorMessage(error), { permanent: false, cause: error });
    }
  }
}
