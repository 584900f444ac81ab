import type { Job, ShiftEvent } from '../jobs/job.js';

/**
 * What the outbox delivers and to whom: the events the core publishes, the reports a sink drafts for them,
 * and the journaled entries it is asked to deliver. Connectors and the MQTT events implement `ReportSink`.
 */

/** Something the core tells sinks about. */
export type AgentEvent =
  | { type: 'job.fiscalized'; job: Job }
  | { type: 'job.failed'; job: Job }
  | { type: 'shift.opened'; deviceId: string; shift: ShiftEvent }
  | { type: 'shift.closed'; deviceId: string; shift: ShiftEvent };

/** A report to deliver, drafted once: everything random in it (UUIDs) is generated here and persisted. */
export interface OutboxDraft {
  kind: string;
  jobId?: string;
  payload: unknown;
}

export interface OutboxEntry extends OutboxDraft {
  id: string;
  /** FIFO order within a sink. */
  seq: number;
  sink: string;
  state: 'pending' | 'delivered' | 'dead';
  createdAt: string;
  deliveredAt?: string;
  lastError?: { code: string; message: string; at: string };
}

export interface ReportSink {
  /** Unique, e.g. `bridge:120`, `mqtt`, `moysklad:store-1`. */
  readonly name: string;
  /** Drafts the reports for an event (none when the event is not this sink's business). */
  draft(event: AgentEvent): OutboxDraft[];
  /**
   * Called once the event's drafts are journaled (this sink's, possibly none), in the order events were
   * published: a sink that keeps state about what happened (MoySklad's shift registry) records it here.
   * `draft` itself must change nothing: its drafts are thrown away when another sink's draft fails.
   */
  recorded?(event: AgentEvent, drafts: readonly OutboxDraft[]): void;
  /** Delivers one entry. Throws `DeliveryError`; `permanent` errors go to the dead letter. */
  deliver(entry: OutboxEntry): Promise<void>;
}
