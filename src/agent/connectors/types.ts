import type { Logger } from 'pino';
import type { DeviceSnapshot } from '../devices/device.js';
import type { BillIntake, IntakeResult } from '../jobs/intake.js';
import type { JobTrigger } from '../jobs/job.js';
import type { ReportSink } from '../outbox/sink.js';
import type { FailingBill, FailingBillRecords } from './failingBills.js';

/**
 * What a cloud connector is to the agent. Data flows one way: a connector hands bills to the intake
 * (jobs/intake.ts); the core journals and fiscalizes them; events come back to its sink through the outbox
 * (outbox/sink.ts).
 */

/** Small durable key-value storage for a connector's own state (ids generated once, cursors, tokens). */
export interface ConnectorStore {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): Promise<void>;
}

export interface ConnectorContext {
  intake: BillIntake;
  store: ConnectorStore;
  /** Where the connector's failing bills outlive a restart (without it they are kept in memory only). */
  failingBills?: FailingBillRecords;
  logger: Logger;
  /** Current state of every fiscal device (for clouds that want register health, e.g. MoySklad /state). */
  devices(): Promise<DeviceSnapshot[]>;
  /**
   * After a rebuild from the registers that could not read a register back to its first document: the
   * register time from which every receipt of ours was seen. A receipt printed before it is unknown to the
   * agent, so a cloud that serves old bills again must not have them printed automatically
   * (docs/fiscalization.md, "Rebuilding from the register").
   */
  rebuiltSince?: string;
  /** The serial number of the register that prints a source account's bills, when it is known. */
  registerSerial?(route: { source: string; account: string; currency: string }): Promise<string | undefined>;
}

export interface ConnectorStatus {
  name: string;
  online: boolean;
  lastSuccessAt?: string;
  lastError?: { code: string; message: string; at: string };
  details?: Record<string, unknown>;
  /** Bills that could not be taken, each retried on its own backoff: an alert until taken. */
  failingBills?: FailingBill[];
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
