import type { Logger } from 'pino';
import type { KktAgentError } from '../../lib/errors.js';
import type { DeviceSnapshot } from '../devices/device.js';
import type { Bill } from '../domain/bill.js';
import type { BillKey, Job, JobOperation, JobTrigger } from '../jobs/job.js';

/**
 * Contracts between the agent core and the cloud connectors. Data flows one way: a connector hands bills
 * to the intake; the core journals and fiscalizes them; events come back to sinks through the outbox.
 */

export interface IntakeResult {
  job: Job;
  /** True when the bill was already known: nothing new was created and nothing will print again. */
  duplicate: boolean;
}

/** Where connectors hand bills in. Every call is journaled (fsync) before it resolves. */
export interface BillIntake {
  submit(input: {
    bill: Bill;
    trigger: JobTrigger;
    operation?: JobOperation;
    deviceId?: string;
  }): Promise<IntakeResult>;
  /** A bill that failed validation: recorded as a FAILED job with the reason, never sent to a device. */
  reject(input: {
    key: BillKey;
    number?: string;
    error: KktAgentError;
    trigger: JobTrigger;
  }): Promise<IntakeResult>;
  /** The job of a bill, if the agent has seen it (the fiscalized-bills registry). */
  find(key: BillKey): Job | undefined;
}

/** Small durable key-value storage for a connector's own state (ids generated once, cursors, tokens). */
export interface ConnectorStore {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): Promise<void>;
}

export interface ConnectorContext {
  intake: BillIntake;
  store: ConnectorStore;
  logger: Logger;
  /** Current state of every fiscal device (for clouds that want register health, e.g. MoySklad /state). */
  devices(): Promise<DeviceSnapshot[]>;
}

/** Something the core tells sinks about. */
export type AgentEvent =
  | { type: 'job.fiscalized'; job: Job }
  | { type: 'job.failed'; job: Job }
  | { type: 'shift.opened'; deviceId: string; shift: ShiftEvent }
  | { type: 'shift.closed'; deviceId: string; shift: ShiftEvent };

export interface ShiftEvent {
  shiftNumber: number;
  fiscalDocumentNumber?: number;
  fiscalSign?: string;
  dateTime: string;
  dateTimeUtc: string;
  fnNumber?: string;
  registrationNumber?: string;
  /** Receipts and fiscal documents in the shift (close only). */
  receiptsCount?: number;
  documentsCount?: number;
}

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
  /** Delivers one entry. Throws `DeliveryError`; `permanent` errors go to the dead letter. */
  deliver(entry: OutboxEntry): Promise<void>;
}

export interface ConnectorStatus {
  name: string;
  online: boolean;
  lastSuccessAt?: string;
  lastError?: { code: string; message: string; at: string };
  details?: Record<string, unknown>;
}

/** A technician's or the cloud's request to fiscalize one bill of a connector, found by number or id. */
export interface BillCommand {
  number?: string;
  billId?: string;
  /** The payment covering the bill; default: the account's. */
  payment?: 'card' | 'cash';
  trigger: JobTrigger;
}

/** A cloud connector: a source of bills, usually also the sink of their receipts. */
export interface Connector {
  readonly name: string;
  start(context: ConnectorContext): Promise<void>;
  stop(): Promise<void>;
  status(): ConnectorStatus;
  readonly sink?: ReportSink;
  /** Looks a bill up in the cloud and hands it to the intake (a duplicate answers with the existing job). */
  fiscalizeOnCommand?(command: BillCommand): Promise<IntakeResult>;
}
