import type { Bill } from '../domain/bill.js';
import { isCorrection, type ReceiptKind } from '../domain/receiptKind.js';

/**
 * A job is one bill's way through the agent. States only move forward, except that a reconcile may send
 * a PRINTING job back to RECEIVED once the register proves nothing was printed.
 *
 *   RECEIVED → PRINTING → FISCALIZED → REPORTED
 *      ↘          ↘ FAILED (the device refused; nothing printed)
 *       ↘         ↘ BLOCKED (ambiguous; a reconcile or a person decides)
 *        → FISCALIZED (its receipt was found on the register by its marker: never printed again)
 */
export const JOB_STATES = ['RECEIVED', 'PRINTING', 'FISCALIZED', 'REPORTED', 'FAILED', 'BLOCKED'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** The kind of receipt a job makes (tag 1054 and whether it is a correction): `src/agent/domain/receiptKind.ts`. */
export type JobOperation = ReceiptKind;

/** What triggered the job: a poll, a technician's command, an MQTT message… */
export interface JobTrigger {
  kind: 'poll' | 'command' | 'mqtt' | 'cli' | 'test';
  /** Command id, message id or poll cycle, for tracing. */
  ref?: string;
}

export interface BillKey {
  source: string;
  account: string;
  billId: string;
}

export const billKeyString = (key: BillKey): string => `${key.source}/${key.account}/${key.billId}`;

/** The fiscal attributes of a printed receipt, as the register reported them. */
export interface FiscalData {
  deviceId: string;
  deviceKind: string;
  fiscalDocumentNumber?: number;
  fiscalSign?: string;
  /** The register's local time with offset, ISO 8601. */
  dateTime: string;
  /** The same instant in UTC, `YYYY-MM-DDTHH:mm:ss.000Z`. */
  dateTimeUtc: string;
  shiftNumber?: number;
  receiptNumber?: string;
  fnNumber?: string;
  registrationNumber?: string;
  totalMinor: number;
  /** Device-specific attributes (SmartX uid, SKO number…). */
  extra?: Record<string, string>;
}

/** A shift report as the register made it (a device's `shift` event; sinks report it to their clouds). */
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

export interface Job {
  /** Short, unique, printable (≤ 16 ASCII): also the receipt marker (tag 1192) and the SmartX operationId. */
  id: string;
  /** `source/account/billId`: a second delivery of the same bill finds this job. */
  key: string;
  /** Arrival order, for FIFO processing and reporting. */
  seq: number;
  /** The bill, absent when it was malformed (then `summary` says what it was). */
  bill?: Bill;
  summary: {
    source: string;
    account: string;
    billId: string;
    number?: string;
    totalMinor?: number;
    currency?: string;
    /** The bill's order (advances, final receipts, credit): kept after retention drops the bill. */
    order?: string;
  };
  operation: JobOperation;
  /**
   * The earlier receipt this job returns or corrects, as it was when this job was created (the full links,
   * both ways, are in the `job_links` table: `JobLinks`).
   */
  related?: RelatedReceipt;
  deviceId: string;
  state: JobState;
  receivedAt: string;
  updatedAt: string;
  trigger: JobTrigger;
  /** Print attempts started (PRINTING entries). */
  attempts: number;
  /** Written before the first byte goes to the device. */
  printing?: { lastDocumentNumberBefore?: number; fnSerial?: string; startedAt: string };
  fiscal?: FiscalData;
  failure?: { code: string; message: string; field?: string; at: string; retryable: boolean };
  blocked?: { code: string; message: string; at: string };
  resolution?: {
    printed: boolean;
    by: string;
    at: string;
    note?: string;
    /** What the register said of the job's marker before "not printed" was taken (or why it could not). */
    checked?: string;
    /** "Not printed" taken with --force although the register could not be searched: the reason. */
    forced?: string;
  };
}

export interface RelatedReceipt {
  jobId: string;
  key: string;
  fiscalDocumentNumber?: number;
  /** The related receipt's fiscal sign (ФП): a correction of it carries it in tag 1192. */
  fiscalSign?: string;
  dateTime?: string;
}

/**
 * What the agent writes into tag 1192 of a job's receipt, and what a reconcile looks for there: the job id,
 * except in a correction of a printed receipt, where FFD 1.2 wants the corrected receipt's fiscal sign (the
 * FNS's recommendations on corrections; docs/fiscalization.md, "Corrections"). Found after the job's own
 * anchor, either identifies the job's receipt: the agent corrects a receipt once.
 */
export function receiptMarker(job: Pick<Job, 'id' | 'operation' | 'related'>): string {
  if (job.related?.fiscalSign && isCorrection(job.operation)) return job.related.fiscalSign;
  return job.id;
}

/** A valid bill's summary: what reports and lists show of a job without reading its bill. */
export function billSummary(bill: Bill): Job['summary'] {
  return {
    source: bill.source,
    account: bill.account,
    billId: bill.billId,
    number: bill.number,
    totalMinor: bill.totalMinor,
    currency: bill.currency,
    ...(bill.order !== undefined ? { order: bill.order } : {}),
  };
}

export const isTerminal = (state: JobState): boolean => state === 'REPORTED' || state === 'FAILED';
